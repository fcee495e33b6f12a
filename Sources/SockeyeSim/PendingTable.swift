import DequeModule

/// Envelopes in flight, found by a slot number carried in the low 32 bits of their
/// `envelope_id` (the id stays a random-looking v4 UUID). Ack lookup is an array index
/// plus a 128-bit compare — no hashing on the hot path.
///
/// Settled slots keep their id and outcome until reused; freed slots are reused only
/// once `reuseAfter` others are free, so duplicate and late acks stay recognisable for
/// at least that many envelopes.
struct PendingTable {
    enum Outcome: UInt8 { case pending, acked, timedOut, awaitingRetry }

    struct Slot {
        var id: EnvelopeUUID
        var outcome: Outcome
        var pending: Pending
    }

    private(set) var slots: [Slot] = []
    private var free: Deque<Int> = []
    /// Envelopes currently pending.
    private(set) var count = 0
    let reuseAfter: Int

    init(reuseAfter: Int = 1 << 16) { self.reuseAfter = reuseAfter }

    /// Stores `p` and returns its new envelope id.
    mutating func insert(_ p: Pending, rng: inout FastRandom) -> EnvelopeUUID {
        let slot: Int
        if free.count > reuseAfter, let s = free.popFirst() { slot = s } else { slot = slots.count }
        var id = EnvelopeUUID.random(&rng)
        id.low = (id.low & 0xFFFF_FFFF_0000_0000) | UInt64(slot)
        let s = Slot(id: id, outcome: .pending, pending: p)
        if slot == slots.count { slots.append(s) } else { slots[slot] = s }
        count += 1
        return id
    }

    /// The slot holding `id`, if it is still known (pending or recently settled).
    func find(_ id: EnvelopeUUID) -> Int? {
        let slot = Int(id.low & 0xFFFF_FFFF)
        guard slot < slots.count, slots[slot].id == id else { return nil }
        return slot
    }

    func outcome(_ slot: Int) -> Outcome { slots[slot].outcome }
    func pending(_ slot: Int) -> Pending { slots[slot].pending }

    /// Times out a pending slot but keeps it (and its id) for a retry with the same id.
    mutating func holdForRetry(_ slot: Int) -> Pending {
        slots[slot].outcome = .awaitingRetry
        count -= 1
        return slots[slot].pending
    }

    /// Makes a held slot pending again for its retry.
    mutating func resume(_ slot: Int, _ p: Pending) {
        slots[slot].outcome = .pending
        slots[slot].pending = p
        count += 1
    }

    /// Settles a pending slot and returns what was pending.
    mutating func settle(_ slot: Int, acked: Bool) -> Pending {
        slots[slot].outcome = acked ? .acked : .timedOut
        free.append(slot)
        count -= 1
        return slots[slot].pending
    }
}
