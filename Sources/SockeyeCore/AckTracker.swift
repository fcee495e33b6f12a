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
/// When the tracker awaits the host's `take` (`guardAwaitsTake`), a delivery still waiting
/// in the host's queue is held past its deadline for as long as it waits there, however long
/// the consumer stops: its retention starts when it is taken. Forgetting it earlier would
/// deliver Slack's next retry a second time while the first copy is still queued. The host's
/// queue bound (`IntakeGate`) bounds these entries.
///
/// Redeliveries of an event whose first copy is still held (pending or late) are *attached*
/// to it rather than delivered: they are acked with it, or released unacked with it. The
/// tracker indexes entries by de-duplication key to find the first copy, and bounds the
/// attachments per event and in total.
///
/// Pending entries live in a queue in token order. Tokens are issued in increasing order and
/// every entry is due a fixed delay after it was tracked, so token order is due order: the
/// next entry to expire is always the oldest one still there, and a token is found by its
/// distance from the head (no hashing on the ack path).
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
        /// Whether the host has taken the delivery out of its queue (always, unless the
        /// tracker's guard awaits the take): the guard acks only what was taken.
        var taken: Bool
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
        /// The guard delay passed but the host had not taken the delivery yet (it waits in a
        /// queue): nothing is acked, the entry is kept as late, as without a guard.
        case guardWithheld(DeliveryToken, Entry)
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
    /// Whether the guard waits for `take`: a delivery still queued on the host's side is
    /// never acked by the guard (a crash would lose it).
    let guardAwaitsTake: Bool
    let lateRetention: Duration
    private let deadlineNanoseconds: UInt64
    private let guardNanoseconds: UInt64?
    /// Most redeliveries attached to one entry.
    let attachPerEntry: Int
    /// Most redeliveries attached across all entries.
    let attachTotal: Int

    /// Pending entries in token order (`nil` once acked, nacked or expired), from
    /// `pendingHead`; `pendingTokens[i]` is the token of `pendingEntries[i]`.
    private var pendingEntries: [Entry?] = []
    private var pendingTokens: [UInt64] = []
    private var pendingHead = 0
    /// Entries still pending.
    private var pendingCount = 0
    private var late: [DeliveryToken: Entry] = [:]
    private var lateOrder: [(token: DeliveryToken, until: Instant)] = []
    private var lateHead = 0
    /// Held (pending or late) entries by event fingerprint, to attach redeliveries.
    private var byKey = FingerprintTable()
    /// Attachments across all entries.
    private(set) var attachedCount = 0

    init(
        deadline: Duration, guardDelay: Duration?, guardAwaitsTake: Bool = false,
        lateRetention: Duration = .seconds(60), attachPerEntry: Int = 8, attachTotal: Int = 10_000
    ) {
        self.deadline = deadline
        self.guardAwaitsTake = guardAwaitsTake
        self.guardDelay = guardDelay.map { min($0, deadline) }
        deadlineNanoseconds = UInt64(max(0, deadline.nanosecondsClamped))
        guardNanoseconds = self.guardDelay.map { UInt64(max(0, $0.nanosecondsClamped)) }
        self.lateRetention = lateRetention
        self.attachPerEntry = max(0, attachPerEntry)
        self.attachTotal = max(0, attachTotal)
    }

    /// Envelopes awaiting an ack before their guard or deadline.
    var outstanding: Int { pendingCount }

    /// Envelopes the host still holds: pending, or past the deadline but still ackable.
    var unresolved: Int { pendingCount + late.count }

    /// Tracks a delivery. Tokens must come in increasing order (the pool issues them so).
    mutating func track(
        _ token: DeliveryToken, id: EnvelopeID, connection: ConnectionID, kind: MessageKind,
        dedupKey: DedupWindow.Key?, now: Instant
    ) {
        let entry = Entry(
            id: id, connection: connection, kind: kind, deadline: Self.after(now, deadlineNanoseconds),
            guardAt: guardNanoseconds.map { Self.after(now, $0) }, taken: !guardAwaitsTake, dedupKey: dedupKey)
        if pendingHead == pendingEntries.count {
            pendingEntries.removeAll(keepingCapacity: true)
            pendingTokens.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
        precondition(pendingTokens.last.map { $0 < token.rawValue } ?? true, "tokens must increase")
        pendingEntries.append(entry)
        pendingTokens.append(token.rawValue)
        pendingCount += 1
        if let dedupKey { byKey.set(token.rawValue, for: dedupKey.fingerprint) }
    }

    private static func after(_ now: Instant, _ nanoseconds: UInt64) -> Instant {
        let (sum, overflow) = now.nanoseconds.addingReportingOverflow(nanoseconds)
        return Instant(nanoseconds: overflow ? .max : sum)
    }

    /// Where `token` sits in the pending queue, if it is there (acked entries may still
    /// hold their place, as `nil`).
    private func pendingIndex(_ token: DeliveryToken) -> Int? {
        let count = pendingTokens.count
        guard pendingHead < count else { return nil }
        let wanted = token.rawValue
        let first = pendingTokens[pendingHead]
        guard wanted >= first, wanted <= pendingTokens[count - 1] else { return nil }
        // Tokens are usually consecutive: try the direct guess, then search.
        let distance = wanted - first
        if distance < UInt64(count - pendingHead) {
            let guess = pendingHead + Int(distance)
            if pendingTokens[guess] == wanted { return guess }
        }
        var low = pendingHead
        var high = count - 1
        while low <= high {
            let middle = (low + high) / 2
            let probe = pendingTokens[middle]
            if probe == wanted { return middle }
            if probe < wanted { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }

    /// Moves the head past entries that left the queue.
    private mutating func advancePendingHead() {
        while pendingHead < pendingEntries.count, pendingEntries[pendingHead] == nil { pendingHead += 1 }
    }

    /// The held delivery of the event `key`, if the host has not acked or nacked it yet.
    func heldToken(for key: DedupWindow.Key) -> DeliveryToken? {
        byKey.value(for: key.fingerprint).map { DeliveryToken(rawValue: $0) }
    }

    /// Attaches a redelivery to the held delivery `token`.
    mutating func attach(_ attachment: Attachment, to token: DeliveryToken) -> AttachResult {
        guard attachedCount < attachTotal else { return .full }
        // Optional chaining on the subscript mutates the stored entry in place.
        if let index = pendingIndex(token), let count = pendingEntries[index]?.attached.count {
            guard count < attachPerEntry else { return .full }
            pendingEntries[index]?.attached.append(attachment)
        } else if let count = late[token]?.attached.count {
            guard count < attachPerEntry else { return .full }
            late[token]?.attached.append(attachment)
        } else {
            return .full  // not held: cannot happen when `token` came from `heldToken`
        }
        attachedCount += 1
        return .attached
    }

    /// The answer to `take`.
    enum TakeResult {
        /// Pending: the guard will ack it at its time unless the host does first.
        case armed
        /// Its guard time passed while it was queued (Slack may have redelivered it since):
        /// removed, for the guard to ack now with its attachments.
        case overdue(Entry)
        /// Not held any more (answered, or expired).
        case unknown
    }

    /// Records that the host took `token` out of its queue, so the guard may ack it. A late
    /// entry taken now starts its retention (`lateRetention` from `now`).
    mutating func take(_ token: DeliveryToken, now: Instant) -> TakeResult {
        if let index = pendingIndex(token), pendingEntries[index] != nil {
            pendingEntries[index]?.taken = true
            return .armed
        }
        guard !late.isEmpty, var entry = late[token], !entry.taken else { return .unknown }
        // A late entry with a guard is one the guard withheld while it was queued.
        if entry.guardAt != nil {
            late[token] = nil
            forget(token, entry)
            return .overdue(entry)
        }
        // Without a guard it waits for the host's late ack, from now on for a bounded time.
        entry.taken = true
        late[token] = entry
        lateOrder.append((token, now + lateRetention))
        return .armed
    }

    /// The entry of `token`, pending or late, without removing it.
    func peek(_ token: DeliveryToken) -> Entry? {
        if let index = pendingIndex(token), let entry = pendingEntries[index] { return entry }
        return late.isEmpty ? nil : late[token]
    }

    /// Removes `token` because the host acked or nacked it.
    mutating func resolve(_ token: DeliveryToken) -> Resolution {
        if let index = pendingIndex(token), let entry = pendingEntries[index] {
            pendingEntries[index] = nil
            pendingCount -= 1
            advancePendingHead()
            forget(token, entry)
            return .onTime(entry)
        }
        guard !late.isEmpty else { return .unknown }
        if let entry = late.removeValue(forKey: token) {
            forget(token, entry)
            return .late(entry)
        }
        return .unknown
    }

    /// Moves every entry whose guard or deadline passed at `now` and returns them.
    mutating func expire(now: Instant) -> [Due] {
        var found: [Due] = []
        while pendingHead < pendingEntries.count {
            guard let entry = pendingEntries[pendingHead] else {
                pendingHead += 1  // acked already
                continue
            }
            guard (entry.guardAt ?? entry.deadline) <= now else { break }
            let token = DeliveryToken(rawValue: pendingTokens[pendingHead])
            pendingEntries[pendingHead] = nil
            pendingCount -= 1
            pendingHead += 1
            if entry.guardAt != nil && entry.taken {
                forget(token, entry)
                found.append(.guardFired(token, entry))
            } else {
                // Still held: a late ack is sent, and redeliveries keep attaching to it. One
                // still in the host's queue is kept until taken; its retention starts then.
                late[token] = entry
                if entry.taken { lateOrder.append((token, now + lateRetention)) }
                found.append(entry.guardAt != nil ? .guardWithheld(token, entry) : .deadlineMissed(token, entry))
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
        pendingEntries[pendingHead...].reduce(0) { $0 + ($1?.connection == connection ? 1 : 0) }
    }

    /// The next instant `expire` has work to do. Drops already-acked entries at the head
    /// of the queue, so the timer is never armed for nothing.
    mutating func nextDeadline() -> Instant? {
        advancePendingHead()
        while lateHead < lateOrder.count, late[lateOrder[lateHead].token] == nil {
            lateHead += 1
        }
        var next = pendingHead < pendingEntries.count ? pendingEntries[pendingHead].map { $0.guardAt ?? $0.deadline } : nil
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
        if let key = entry.dedupKey { byKey.remove(key.fingerprint, ifValueIs: token.rawValue) }
    }

    private mutating func compact() {
        if pendingHead > 1024 && pendingHead * 2 > pendingEntries.count {
            pendingEntries.removeFirst(pendingHead)
            pendingTokens.removeFirst(pendingHead)
            pendingHead = 0
        }
        if lateHead > 1024 && lateHead * 2 > lateOrder.count {
            lateOrder.removeFirst(lateHead)
            lateHead = 0
        }
    }
}
