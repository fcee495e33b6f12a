import Synchronization

/// A message to publish: where, under which id, and the bytes.
package struct OutgoingMessage: Sendable {
    package var subject: String
    package var messageID: String
    package var payload: [UInt8]
    /// Headers besides the message id (where a worker sends the event's answer).
    package var headers: [(String, String)]

    package init(subject: String, messageID: String, payload: [UInt8], headers: [(String, String)] = []) {
        self.subject = subject
        self.messageID = messageID
        self.payload = payload
        self.headers = headers
    }
}

/// What became of a batch: the indices the stream did not store, and counts.
package struct PublishReport: Sendable, Equatable {
    package var refused: [Int]
    package var error: JetStreamError?
    package var stored: Int
    package var duplicates: Int
}

/// Publishes batches over a `JetStreamConnection` and waits for their PubAcks, each batch by
/// its own deadline; what to resend and when to give up is `PublishRound`'s decision.
///
/// Every message sent gets a fresh token; the connection's answers come back by token on its
/// own thread and are recorded into their batch's round under one lock. A batch whose deadline
/// passes with messages unanswered takes back everything the connection still has in flight
/// (`reclaimPending`): those messages fail, in this batch and in any other (their events are
/// nacked and come back from Slack; the stream's duplicate window stores each once). That only
/// happens when the stream has stopped answering, so nothing is given up that was about to be
/// stored.
///
/// Threading: `publish` may be called from many tasks at once. Bounded: a batch holds at most
/// its own messages, and the connection at most `CNatsConnection.maxPending` in flight.
package final class JetStreamPublisher: Sendable {
    private struct Owner {
        var batch: UInt64
        var index: Int
    }

    private struct Batch {
        var round: PublishRound
        /// The task waiting for the round's messages in flight, resumed when they are all
        /// answered or at the deadline.
        var waiter: CheckedContinuation<Void, Never>?
    }

    private struct State {
        var nextToken: UInt64 = 1
        var nextBatch: UInt64 = 1
        var owners: [UInt64: Owner] = [:]
        var batches: [UInt64: Batch] = [:]
    }

    private let state = Mutex(State())
    private let connectionBox = Mutex<(any JetStreamConnection)?>(nil)

    /// A publisher whose connection is made by `connect`, given the handler its answers go to.
    package init(connect: (@escaping JetStreamAnswerHandler) throws(JetStreamError) -> any JetStreamConnection) throws(JetStreamError) {
        let connection = try connect { [weak self] token, outcome in self?.answer(token, outcome) }
        connectionBox.withLock { $0 = connection }
    }

    /// The connection (for the stream's administration and the health figures).
    package var connection: any JetStreamConnection {
        connectionBox.withLock { $0! }
    }

    /// Publishes `messages` and returns once each is stored or given up, by `timeout` seconds
    /// from now at the latest.
    package func publish(_ messages: [OutgoingMessage], timeout seconds: Double) async -> PublishReport {
        guard !messages.isEmpty else { return PublishReport(refused: [], error: nil, stored: 0, duplicates: 0) }
        let deadline = ContinuousClock.now + .milliseconds(Int64((seconds * 1000).rounded()))
        let batch = state.withLock { state in
            defer { state.nextBatch += 1 }
            state.batches[state.nextBatch] = Batch(round: PublishRound(count: messages.count, deadline: deadline))
            return state.nextBatch
        }
        send(messages, indices: Array(messages.indices), batch: batch)
        let timer = Task { [weak self] in
            try? await Task.sleep(until: deadline, clock: .continuous)
            self?.wake(batch)
        }
        defer { timer.cancel() }
        while true {
            let action = state.withLock { $0.batches[batch]!.round.next(now: .now) }
            switch action {
            case .awaitAcks:
                await waitForAnswers(batch)
                if ContinuousClock.now >= deadline { expire(batch, after: seconds) }
            case .resend(let indices, let at):
                try? await Task.sleep(until: at, clock: .continuous)
                send(messages, indices: indices, batch: batch)
            case .finish:
                let round = state.withLock { $0.batches.removeValue(forKey: batch)!.round }
                let stored = round.stored
                return PublishReport(refused: round.refused, error: round.firstError, stored: stored.count, duplicates: stored.duplicates)
            }
        }
    }

    /// Sends `indices` of `messages` for `batch`, each under a new token; a message the
    /// connection cannot send is recorded as failed at once.
    private func send(_ messages: [OutgoingMessage], indices: [Int], batch: UInt64) {
        let first = state.withLock { state in
            defer { state.nextToken += UInt64(indices.count) }
            for (offset, index) in indices.enumerated() {
                state.owners[state.nextToken + UInt64(offset)] = Owner(batch: batch, index: index)
            }
            return state.nextToken
        }
        let connection = connection
        for (offset, index) in indices.enumerated() {
            let message = messages[index]
            if let failure = connection.publish(subject: message.subject, messageID: message.messageID, payload: message.payload, headers: message.headers,
                                                token: first + UInt64(offset)) {
                answer(first + UInt64(offset), .failed(failure))
            }
        }
    }

    /// Records the answer for `token` (from the connection's thread, or from `send`).
    private func answer(_ token: UInt64, _ outcome: PublishRound.Outcome) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let owner = state.owners.removeValue(forKey: token), state.batches[owner.batch] != nil else { return nil }
            state.batches[owner.batch]!.round.record(owner.index, outcome)
            guard state.batches[owner.batch]!.round.inFlight == 0 else { return nil }
            defer { state.batches[owner.batch]!.waiter = nil }
            return state.batches[owner.batch]!.waiter
        }
        waiter?.resume()
    }

    /// Returns when `batch` has nothing in flight, or when `wake` is called at its deadline.
    private func waitForAnswers(_ batch: UInt64) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                guard let current = state.batches[batch], current.round.inFlight > 0, ContinuousClock.now < current.round.deadline else {
                    return true
                }
                state.batches[batch]!.waiter = continuation
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// The deadline of `batch` came: its waiter (if any) goes on.
    private func wake(_ batch: UInt64) {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard state.batches[batch] != nil else { return nil }
            defer { state.batches[batch]!.waiter = nil }
            return state.batches[batch]!.waiter
        }
        waiter?.resume()
    }

    /// `batch` is past its deadline with messages unanswered: everything in flight on the
    /// connection is taken back and fails, then the batch's round expires.
    private func expire(_ batch: UInt64, after seconds: Double) {
        let reclaimed = connection.reclaimPending()
        let failure = JetStreamError(.unavailable, "no PubAck in time: the stream stopped answering")
        for token in reclaimed { answer(token, .failed(failure)) }
        state.withLock { state in
            state.batches[batch]?.round.expire(after: seconds)
            state.owners = state.owners.filter { $0.value.batch != batch }
        }
    }
}
