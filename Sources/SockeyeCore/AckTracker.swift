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
/// Every delivered envelope is tracked until the host acks or nacks it. If an *ack guard*
/// delay is set (default 2.5 s), an envelope still unacknowledged then is reported by
/// `expire` so the pool can ack it empty before Slack's deadline — a slow host then never
/// triggers Slack's retries. Without a guard, envelopes past the deadline are reported once
/// as missed and then kept for `lateRetention` so that a late ack can still be sent and is
/// reported as late rather than unknown.
///
/// Redeliveries of an event whose first copy is still held (pending or late) are *attached*
/// to it rather than delivered: they are acked with it, or released unacked with it. The
/// tracker indexes entries by de-duplication key to find the first copy, and bounds the
/// attachments per event and in total.
struct AckTracker {
    /// A redelivery waiting for the fate of the first copy.
    struct Attachment {
        var id: EnvelopeID
        var connection: ConnectionID
    }

    struct Entry {
        var id: EnvelopeID
        var connection: ConnectionID
        var kind: MessageKind
        var deadline: Instant
        var guardAt: Instant?
        /// The de-duplication key of the event, to forget it if it is never acked.
        var dedupKey: DedupWindow.Key?
        /// Redeliveries of the same event, acked or released with this entry. Empty (no
        /// allocation) for nearly every entry.
        var attached: [Attachment] = []
    }

    /// What `expire` found due.
    enum Due {
        /// The guard delay passed: ack empty now (and every attachment).
        case guardFired(DeliveryToken, Entry)
        /// The deadline passed without an ack (no guard); the entry is kept as late.
        case deadlineMissed(DeliveryToken, Entry)
        /// A late entry's retention passed: it is forgotten, unacked.
        case lateExpired(DeliveryToken, Entry)
    }

    /// The answer to `resolve`.
    enum Resolution {
        case onTime(Entry)
        case late(Entry)
        case unknown
    }

    /// The answer to `attach`.
    enum AttachResult {
        case attached
        /// The per-event or total bound is reached.
        case full
    }

    let deadline: Duration
    let guardDelay: Duration?
    let lateRetention: Duration
    /// Most redeliveries attached to one entry.
    let attachPerEntry: Int
    /// Most redeliveries attached across all entries.
    let attachTotal: Int

    private var pending: [DeliveryToken: Entry] = [:]
    private var pendingOrder: [(token: DeliveryToken, at: Instant)] = []
    private var pendingHead = 0
    private var late: [DeliveryToken: Entry] = [:]
    private var lateOrder: [(token: DeliveryToken, until: Instant)] = []
    private var lateHead = 0
    /// Held (pending or late) entries by event, to attach redeliveries.
    private var byKey: [DedupWindow.Key: DeliveryToken] = [:]
    /// Attachments across all entries.
    private(set) var attachedCount = 0

    init(
        deadline: Duration, guardDelay: Duration?, lateRetention: Duration = .seconds(60),
        attachPerEntry: Int = 8, attachTotal: Int = 10_000
    ) {
        self.deadline = deadline
        self.guardDelay = guardDelay.map { min($0, deadline) }
        self.lateRetention = lateRetention
        self.attachPerEntry = max(0, attachPerEntry)
        self.attachTotal = max(0, attachTotal)
    }

    /// Envelopes awaiting an ack before their guard or deadline.
    var outstanding: Int { pending.count }

    /// Envelopes the host still holds: pending, or past the deadline but still ackable.
    var unresolved: Int { pending.count + late.count }

    mutating func track(
        _ token: DeliveryToken, id: EnvelopeID, connection: ConnectionID, kind: MessageKind,
        dedupKey: DedupWindow.Key?, now: Instant
    ) {
        let entry = Entry(
            id: id, connection: connection, kind: kind, deadline: now + deadline,
            guardAt: guardDelay.map { now + $0 }, dedupKey: dedupKey)
        pending[token] = entry
        pendingOrder.append((token, entry.guardAt ?? entry.deadline))
        if let dedupKey { byKey[dedupKey] = token }
    }

    /// The held delivery of the event `key`, if the host has not acked or nacked it yet.
    func heldToken(for key: DedupWindow.Key) -> DeliveryToken? { byKey[key] }

    /// Attaches a redelivery to the held delivery `token`.
    mutating func attach(_ attachment: Attachment, to token: DeliveryToken) -> AttachResult {
        guard attachedCount < attachTotal else { return .full }
        // Optional chaining on the subscript mutates the stored entry in place.
        if let count = pending[token]?.attached.count {
            guard count < attachPerEntry else { return .full }
            pending[token]?.attached.append(attachment)
        } else if let count = late[token]?.attached.count {
            guard count < attachPerEntry else { return .full }
            late[token]?.attached.append(attachment)
        } else {
            return .full  // not held: cannot happen when `token` came from `heldToken`
        }
        attachedCount += 1
        return .attached
    }

    /// The entry of `token`, pending or late, without removing it.
    func peek(_ token: DeliveryToken) -> Entry? { pending[token] ?? late[token] }

    /// Removes `token` because the host acked or nacked it.
    mutating func resolve(_ token: DeliveryToken) -> Resolution {
        if let entry = pending.removeValue(forKey: token) {
            forget(token, entry)
            return .onTime(entry)
        }
        if let entry = late.removeValue(forKey: token) {
            forget(token, entry)
            return .late(entry)
        }
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
                forget(token, entry)
                found.append(.guardFired(token, entry))
            } else {
                // Still held: a late ack is sent, and redeliveries keep attaching to it.
                late[token] = entry
                lateOrder.append((token, now + lateRetention))
                found.append(.deadlineMissed(token, entry))
            }
        }
        while lateHead < lateOrder.count, lateOrder[lateHead].until <= now {
            let token = lateOrder[lateHead].token
            lateHead += 1
            if let entry = late.removeValue(forKey: token) {
                forget(token, entry)
                found.append(.lateExpired(token, entry))
            }
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
        while lateHead < lateOrder.count, late[lateOrder[lateHead].token] == nil {
            lateHead += 1
        }
        var next = pendingHead < pendingOrder.count ? pendingOrder[pendingHead].at : nil
        if lateHead < lateOrder.count {
            let until = lateOrder[lateHead].until
            next = next.map { min($0, until) } ?? until
        }
        compact()
        return next
    }

    /// Drops the bookkeeping of an entry that left the tracker.
    private mutating func forget(_ token: DeliveryToken, _ entry: Entry) {
        attachedCount -= entry.attached.count
        if let key = entry.dedupKey, byKey[key] == token { byKey[key] = nil }
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
