/// Identifies one delivery handed to the host; the host acknowledges by token.
public struct DeliveryToken: Sendable, Hashable, CustomStringConvertible {
    /// Unique within one `PoolController`, increasing.
    public let rawValue: UInt64
    /// The token with this raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public var description: String { "delivery#\(rawValue)" }
}

/// Tracks envelopes awaiting acknowledgement against Slack's 3 s deadline.
///
/// Every delivered envelope is tracked until the host acks it. If an *ack guard* delay is
/// set (default 2.5 s), an envelope still unacknowledged then is reported by `expire` so
/// the pool can ack it empty before Slack's deadline — a slow host then never triggers
/// Slack's retries. Without a guard, envelopes past the deadline are reported once as
/// missed and then kept for `lateRetention` so that a late ack can still be sent and is
/// reported as late rather than unknown.
struct AckTracker {
    struct Entry {
        var id: EnvelopeID
        var connection: ConnectionID
        var kind: MessageKind
        var deadline: Instant
        var guardAt: Instant?
        /// The de-duplication key of the event, to forget it if it is never acked.
        var dedupKey: DedupWindow.Key?
    }

    /// What `expire` found due.
    enum Due {
        /// The guard delay passed: ack empty now.
        case guardFired(DeliveryToken, Entry)
        /// The deadline passed without an ack (no guard).
        case deadlineMissed(DeliveryToken, Entry)
    }

    /// The answer to `resolve`.
    enum Resolution {
        case onTime(Entry)
        case late(Entry)
        case unknown
    }

    let deadline: Duration
    let guardDelay: Duration?
    let lateRetention: Duration

    private var pending: [DeliveryToken: Entry] = [:]
    private var pendingOrder: [(token: DeliveryToken, at: Instant)] = []
    private var pendingHead = 0
    private var late: [DeliveryToken: Entry] = [:]
    private var lateOrder: [(token: DeliveryToken, until: Instant)] = []
    private var lateHead = 0

    init(deadline: Duration, guardDelay: Duration?, lateRetention: Duration = .seconds(60)) {
        self.deadline = deadline
        self.guardDelay = guardDelay.map { min($0, deadline) }
        self.lateRetention = lateRetention
    }

    /// Envelopes awaiting an ack.
    var outstanding: Int { pending.count }

    mutating func track(
        _ token: DeliveryToken, id: EnvelopeID, connection: ConnectionID, kind: MessageKind,
        dedupKey: DedupWindow.Key?, now: Instant
    ) {
        let entry = Entry(
            id: id, connection: connection, kind: kind, deadline: now + deadline,
            guardAt: guardDelay.map { now + $0 }, dedupKey: dedupKey)
        pending[token] = entry
        pendingOrder.append((token, entry.guardAt ?? entry.deadline))
    }

    /// The entry of `token`, pending or late, without removing it.
    func peek(_ token: DeliveryToken) -> Entry? { pending[token] ?? late[token] }

    /// Removes `token` because the host acked it.
    mutating func resolve(_ token: DeliveryToken) -> Resolution {
        if let entry = pending.removeValue(forKey: token) { return .onTime(entry) }
        if let entry = late.removeValue(forKey: token) { return .late(entry) }
        return .unknown
    }

    /// Moves every entry whose guard or deadline passed at `now` and returns them.
    mutating func expire(now: Instant) -> [Due] {
        var found: [Due] = []
        while pendingHead < pendingOrder.count, pendingOrder[pendingHead].at <= now {
            let token = pendingOrder[pendingHead].token
            pendingHead += 1
            guard let entry = pending.removeValue(forKey: token) else { continue }  // acked already
            if entry.guardAt != nil {
                found.append(.guardFired(token, entry))
            } else {
                late[token] = entry
                lateOrder.append((token, now + lateRetention))
                found.append(.deadlineMissed(token, entry))
            }
        }
        while lateHead < lateOrder.count, lateOrder[lateHead].until <= now {
            late.removeValue(forKey: lateOrder[lateHead].token)
            lateHead += 1
        }
        compact()
        return found
    }

    /// Entries for `connection` that are still waiting, e.g. to re-route their acks.
    func outstanding(on connection: ConnectionID) -> Int {
        pending.values.reduce(0) { $0 + ($1.connection == connection ? 1 : 0) }
    }

    /// The next instant `expire` has work to do. Drops already-acked entries at the head
    /// of the queue, so the timer is never armed for nothing.
    mutating func nextDeadline() -> Instant? {
        while pendingHead < pendingOrder.count, pending[pendingOrder[pendingHead].token] == nil {
            pendingHead += 1
        }
        var next = pendingHead < pendingOrder.count ? pendingOrder[pendingHead].at : nil
        if lateHead < lateOrder.count {
            let until = lateOrder[lateHead].until
            next = next.map { min($0, until) } ?? until
        }
        compact()
        return next
    }

    private mutating func compact() {
        if pendingHead > 1024 && pendingHead * 2 > pendingOrder.count {
            pendingOrder.removeFirst(pendingHead)
            pendingHead = 0
        }
        if lateHead > 1024 && lateHead * 2 > lateOrder.count {
            lateOrder.removeFirst(lateHead)
            lateHead = 0
        }
    }
}
