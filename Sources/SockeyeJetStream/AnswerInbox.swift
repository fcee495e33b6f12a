import CNats
import Foundation
import Synchronization

/// Where a node waits for the answers of slash commands and interactions that a worker on
/// another machine handles (NATS request–reply around the stream): each such event is
/// published with the header `Sockeye-Answer-To: <inbox>.<token>`, and the worker whose sinks
/// produced a response publishes it there. One subscription per inbox
/// (`_INBOX.sockeye.<random>.*`); only answers someone waits for are kept.
///
/// Threading: `wait` from any task; answers arrive on a libnats thread. Ownership: the inbox
/// owns its subscription (`close()`, or deinit); the connection must outlive it.
package final class AnswerInbox: Sendable {
    /// The header naming where an event's answer goes.
    package static let header = "Sockeye-Answer-To"
    /// Answers larger than this are dropped (Slack takes at most 20 KB in an ack anyway).
    package static let maxAnswerBytes = 64 * 1024

    /// A batch waiting for its answers: woken when the last one is in, or at its deadline.
    private final class Waiter: Sendable {
        let tokens: Set<UInt64>
        let wake = OneShot()

        init(tokens: Set<UInt64>) {
            self.tokens = tokens
        }
    }

    private struct State {
        /// Tokens someone waits for, and their answers once in.
        var expected: Set<UInt64> = []
        var answers: [UInt64: [UInt8]] = [:]
        var waiters: [ObjectIdentifier: Waiter] = [:]
    }

    /// The subject prefix: an answer to token `t` goes to `<prefix>.<t>`.
    package let prefix: String
    private let state = Mutex(State())
    nonisolated(unsafe) private let subscription: OpaquePointer
    private let box: Unmanaged<InboxBox>
    private let closed = Mutex(false)

    /// Subscribes to a new inbox on `connection`.
    package init(connection: CNatsConnection) throws(JetStreamError) {
        prefix = "_INBOX.sockeye.\(UInt64.random(in: 0...UInt64.max).hexTail)\(UInt64.random(in: 0...UInt64.max).hexTail)"
        let box = Unmanaged.passRetained(InboxBox())
        self.box = box
        var subscriptionPointer: OpaquePointer?
        let status = connection.subscribe(&subscriptionPointer, subject: "\(prefix).*", box: box.toOpaque())
        guard status == NATS_OK, let made = subscriptionPointer else {
            box.release()
            throw CNatsConnection.failure(status, jsErrCode(0), doing: "subscribing to the answers' inbox")
        }
        subscription = made
        box.takeUnretainedValue().inbox.withLock { $0 = Weak(self) }
    }

    deinit { close() }

    /// Where the answer to `token` goes.
    package func subject(for token: UInt64) -> String { "\(prefix).\(token)" }

    /// Keeps the answers to `tokens` from now on: call it before the messages go out (a worker
    /// may answer before the stream's PubAck is back).
    package func expect(_ tokens: [UInt64]) {
        state.withLock { $0.expected.formUnion(tokens) }
    }

    /// Waits until every one of `tokens` (expected since before they went out) is answered or
    /// `deadline` passes; returns the answers that came (and forgets the tokens: a later
    /// answer is dropped).
    package func wait(for tokens: [UInt64], until deadline: ContinuousClock.Instant) async -> [UInt64: [UInt8]] {
        guard !tokens.isEmpty else { return [:] }
        let waiter = Waiter(tokens: Set(tokens))
        let alreadyIn = state.withLock { state -> Bool in
            state.expected.formUnion(tokens)
            if tokens.allSatisfy({ state.answers[$0] != nil }) { return true }
            state.waiters[ObjectIdentifier(waiter)] = waiter
            return false
        }
        if !alreadyIn {
            let remaining = deadline - ContinuousClock.now
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                waiter.wake.arm(continuation)
                let nanoseconds = max(0, remaining.components.seconds * 1_000_000_000 + remaining.components.attoseconds / 1_000_000_000)
                DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(clamping: nanoseconds))) { waiter.wake.fire() }
            }
        }
        return state.withLock { state in
            state.waiters[ObjectIdentifier(waiter)] = nil
            var found: [UInt64: [UInt8]] = [:]
            for token in tokens {
                state.expected.remove(token)
                if let answer = state.answers.removeValue(forKey: token) { found[token] = answer }
            }
            return found
        }
    }

    /// An answer arrived on `subject` (a libnats thread).
    fileprivate func received(subject: String, data: [UInt8]) {
        guard data.count <= Self.maxAnswerBytes, let dot = subject.lastIndex(of: "."),
              let token = UInt64(subject[subject.index(after: dot)...])
        else { return }
        let complete = state.withLock { state -> [Waiter] in
            guard state.expected.contains(token), state.answers[token] == nil else { return [] }
            state.answers[token] = data
            return state.waiters.values.filter { $0.tokens.allSatisfy { state.answers[$0] != nil } }
        }
        for waiter in complete { waiter.wake.fire() }
    }

    /// Unsubscribes (answers that come later are dropped). Idempotent.
    package func close() {
        let first = closed.withLock { closed in
            defer { closed = true }
            return !closed
        }
        guard first else { return }
        natsSubscription_Unsubscribe(subscription)
        natsSubscription_Destroy(subscription)
        // The box stays: a handler already running may still read it (it finds no inbox).
        box.takeUnretainedValue().inbox.withLock { $0 = nil }
    }
}

/// What the libnats handler reaches through its closure pointer.
private final class InboxBox: Sendable {
    let inbox = Mutex<Weak<AnswerInbox>?>(nil)
}

private struct Weak<Object: AnyObject & Sendable>: Sendable {
    weak var object: Object?

    init(_ object: Object) {
        self.object = object
    }
}

private extension UInt64 {
    /// 16 hexadecimal digits.
    var hexTail: String {
        let digits = String(self, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension CNatsConnection {
    /// Subscribes `box`'s inbox to `subject` (its answers arrive on libnats threads).
    fileprivate func subscribe(_ subscription: inout OpaquePointer?, subject: String, box: UnsafeMutableRawPointer) -> natsStatus {
        natsConnection_Subscribe(&subscription, natsConnection, subject, { _, _, message, closure in
            guard let message else { return }
            defer { natsMsg_Destroy(message) }
            guard let closure else { return }
            let box = Unmanaged<InboxBox>.fromOpaque(closure).takeUnretainedValue()
            guard let inbox = box.inbox.withLock({ $0?.object }) else { return }
            let subject = natsMsg_GetSubject(message).map { String(cString: $0) } ?? ""
            inbox.received(subject: subject, data: CNatsConnection.data(of: message))
        }, box)
    }
}
