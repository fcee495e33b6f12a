/// One batch's way into the stream, decided without I/O: which messages wait for their
/// PubAck, which are sent again after a passing failure, and when the batch gives up.
///
/// A message is **stored** when its PubAck came (possibly as a duplicate: the stream already
/// had its id, which is as good). A failure of kind `.unavailable` (no responders while a
/// stream leader is elected, a request timeout, a lost connection) is passing: the message is
/// sent again, with the same id so it cannot be stored twice, after 50 ms, then 100, 200 and
/// 400 ms, for as long as the deadline leaves room for one more try. Any other failure, and
/// every message not stored at the deadline, is final for this batch: the event is nacked and
/// Slack delivers it again later (the stream's duplicate window makes that safe).
///
/// The I/O layer (`JetStreamPublisher`) feeds it PubAcks with `record` and the clock with
/// `next(now:)`, and does what the returned `Action` says.
package struct PublishRound: Sendable {
    /// What the stream said of one message.
    package enum Outcome: Sendable, Equatable {
        case stored(sequence: UInt64, duplicate: Bool)
        case failed(JetStreamError)
    }

    /// What the I/O layer does next.
    package enum Action: Sendable, Equatable {
        /// Wait for PubAcks of the messages in flight, at most until this instant; then call
        /// `expire()` if some are still in flight.
        case awaitAcks(until: ContinuousClock.Instant)
        /// Send these messages again (same subject, same id) at this instant.
        case resend([Int], at: ContinuousClock.Instant)
        /// The batch is settled: read `refused`.
        case finish
    }

    private enum Slot: Sendable, Equatable {
        case inFlight
        case stored(duplicate: Bool)
        case retry(JetStreamError)
        case failed(JetStreamError)
    }

    /// The first pause before a resend; it doubles on each try up to `maxBackoff`.
    package static let firstBackoff: Duration = .milliseconds(50)
    package static let maxBackoff: Duration = .milliseconds(400)
    /// A resend is only worth it when at least this much time is left after its pause.
    package static let minimumFlight: Duration = .milliseconds(25)

    private var slots: [Slot]
    package let deadline: ContinuousClock.Instant
    /// Sends so far of the most-sent message (1 after the first send).
    package private(set) var attempts = 1

    /// A round for `count` messages, all sent once already, that must settle by `deadline`.
    package init(count: Int, deadline: ContinuousClock.Instant) {
        slots = Array(repeating: .inFlight, count: count)
        self.deadline = deadline
    }

    /// Records the stream's answer for message `index`. An answer for a message not in
    /// flight (a late PubAck after `expire()`) is ignored.
    package mutating func record(_ index: Int, _ outcome: Outcome) {
        guard slots.indices.contains(index), slots[index] == .inFlight else { return }
        switch outcome {
        case .stored(_, let duplicate): slots[index] = .stored(duplicate: duplicate)
        case .failed(let error) where error.kind == .unavailable: slots[index] = .retry(error)
        case .failed(let error): slots[index] = .failed(error)
        }
    }

    /// Messages still waiting for a PubAck.
    package var inFlight: Int { slots.count { $0 == .inFlight } }

    /// What to do now.
    package mutating func next(now: ContinuousClock.Instant) -> Action {
        if slots.contains(.inFlight) { return .awaitAcks(until: deadline) }
        let waiting = slots.indices.filter { if case .retry = slots[$0] { true } else { false } }
        guard !waiting.isEmpty else { return .finish }
        var backoff = Self.firstBackoff
        for _ in 1..<attempts where backoff < Self.maxBackoff { backoff *= 2 }
        backoff = min(backoff, Self.maxBackoff)
        let at = now + backoff
        guard at + Self.minimumFlight < deadline else {
            for index in waiting { if case .retry(let error) = slots[index] { slots[index] = .failed(error) } }
            return .finish
        }
        for index in waiting { slots[index] = .inFlight }
        attempts += 1
        return .resend(waiting, at: at)
    }

    /// The deadline passed: every message still in flight or waiting fails.
    package mutating func expire(after seconds: Double) {
        for index in slots.indices {
            switch slots[index] {
            case .inFlight:
                slots[index] = .failed(JetStreamError(.unavailable, "no PubAck within \(Self.format(seconds)) s"))
            case .retry(let error):
                slots[index] = .failed(error)
            case .stored, .failed:
                break
            }
        }
    }

    /// The messages that failed, in order (their events are nacked).
    package var refused: [Int] {
        slots.indices.filter { if case .failed = slots[$0] { true } else { false } }
    }

    /// The first failure's words, for the log and the status page.
    package var firstError: JetStreamError? {
        for slot in slots { if case .failed(let error) = slot { return error } }
        return nil
    }

    /// Messages stored, and how many of them the stream already had.
    package var stored: (count: Int, duplicates: Int) {
        var count = 0
        var duplicates = 0
        for slot in slots {
            if case .stored(let duplicate) = slot {
                count += 1
                if duplicate { duplicates += 1 }
            }
        }
        return (count, duplicates)
    }

    private static func format(_ seconds: Double) -> String {
        let tenths = (seconds * 10).rounded() / 10
        return tenths == tenths.rounded() ? String(Int(tenths)) : String(tenths)
    }
}
