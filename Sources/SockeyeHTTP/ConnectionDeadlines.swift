import NIOCore

/// When one server connection has waited too long, decided from what happened on it and
/// when (sans-IO: the caller passes the time, a timer asks `expired(at:)`).
///
/// - A request head must be complete within `head` of its first byte — or of the accept,
///   for the connection's first request (a connection that sends nothing is closed after
///   the shorter of `idle` and `head`). The deadline is absolute: bytes arriving one at a
///   time do not move it.
/// - A body must be complete within `bodyBase + size / minBodyRate` of the end of its head.
/// - A connection with no request in progress and none waiting for its answer is closed
///   after `idle`.
/// - While requests wait for their answers (and no new one has started), nothing expires:
///   the handler answers within its own deadlines.
///
/// A pipelined request whose first bytes came in the same read as the end of the previous
/// one is timed from its next byte (the raw bytes are seen before they are parsed).
public struct ConnectionDeadlines: Sendable {
    /// Which wait ran out.
    public enum Expiry: Sendable, Equatable {
        case idle, head, body
    }

    /// What the connection is waiting for.
    enum Phase: Sendable, Equatable {
        /// Accepted, nothing read yet: closed after the shorter of `idle` and `head`.
        case fresh(since: NIODeadline)
        case idle(since: NIODeadline)
        case head(until: NIODeadline)
        case body(until: NIODeadline)
        case answers
    }

    let idle: TimeAmount
    let head: TimeAmount
    let bodyBase: TimeAmount
    let minBodyRate: Int
    private(set) var phase: Phase

    /// A connection accepted at `accepted`; its first head must be complete within `head`.
    public init(accepted: NIODeadline, idle: TimeAmount, head: TimeAmount, bodyBase: TimeAmount, minBodyBytesPerSecond: Int) {
        self.idle = idle
        self.head = head
        self.bodyBase = bodyBase
        self.minBodyRate = max(1, minBodyBytesPerSecond)
        phase = .fresh(since: accepted)
    }

    /// Bytes arrived: the head deadline starts if nothing was in progress.
    public mutating func bytesArrived(at now: NIODeadline) {
        switch phase {
        case .fresh(let since): phase = .head(until: since + head)
        case .idle, .answers: phase = .head(until: now + head)
        case .head, .body: break
        }
    }

    /// A head was read; its body of (at most) `bodyBytes` must follow.
    public mutating func headRead(at now: NIODeadline, bodyBytes: Int) {
        phase = .body(until: now + Self.bodyTime(bodyBytes, base: bodyBase, rate: minBodyRate))
    }

    /// A request was read in full; `unanswered` requests wait for their answers.
    public mutating func requestRead(at now: NIODeadline, unanswered: Int) {
        phase = unanswered > 0 ? .answers : .idle(since: now)
    }

    /// An answer was written; `unanswered` requests still wait. The idle time starts when the
    /// last one is answered and no new request has begun.
    public mutating func answered(at now: NIODeadline, unanswered: Int) {
        if case .answers = phase, unanswered == 0 { phase = .idle(since: now) }
    }

    /// Since when nothing of a request was read and no answer is owed (the connection can
    /// be closed without losing anything); nil while a request is in progress.
    public var idleSince: NIODeadline? {
        switch phase {
        case .fresh(let since), .idle(let since): return since
        case .head, .body, .answers: return nil
        }
    }

    /// The wait that ran out at `now`, if any.
    public func expired(at now: NIODeadline) -> Expiry? {
        switch phase {
        case .fresh(let since):
            if now - since >= head { return .head }
            return now - since >= idle ? .idle : nil
        case .idle(let since): return now - since >= idle ? .idle : nil
        case .head(let until): return now >= until ? .head : nil
        case .body(let until): return now >= until ? .body : nil
        case .answers: return nil
        }
    }

    /// `base + bytes / rate`, capped at a day (no overflow whatever the size).
    static func bodyTime(_ bytes: Int, base: TimeAmount, rate: Int) -> TimeAmount {
        let seconds = min(86_400, Double(max(0, bytes)) / Double(max(1, rate)))
        return base + .nanoseconds(Int64(seconds * 1e9))
    }
}
