/// The connection slots of one app that this node holds in the cluster, decided without I/O.
///
/// Slack lets an app hold 10 Socket Mode connections. The cluster's nodes share them through
/// a JetStream key-value bucket: one key per slot (`<app>.slot.<n>`, n < `slots`), whose value
/// names the node holding it. A node takes a free slot by creating its key, keeps it by
/// updating the key (compare-and-swap on the revision it last wrote) every third of the lease
/// time, and gives it back by deleting it. Per-key expiry is not used (NATS 2.9 has none); a
/// lease ends by being observed unchanged:
///
/// - **Holder**: a renewal is timed from when it was *sent*; a slot not renewed successfully
///   within `ttl` of the last one sent is closed at once (fenced), whatever the bucket says. A
///   renewal that fails on its revision (someone else wrote the key) closes the slot at once.
/// - **Others**: a slot whose key has not changed for `ttl`, as seen on this node's monotonic
///   clock from the moment the change was *observed*, is expired and may be taken over (a
///   compare-and-swap on the revision observed, so of two nodes trying only one wins). A key
///   that still names this node, which does not hold it (it fenced the slot, or restarted), is
///   taken back at once: no other node uses it.
///
/// Since the holder's clock starts before the server stored its renewal and the others' after
/// they saw it, a stalled holder has closed its connection before anyone takes the slot over
/// (for clocks that run at the same rate): no two nodes use one slot at once.
///
/// The host reads the keys (`observe`), carries out the returned actions against the bucket
/// and the app's connections, and reports how they went (`succeeded`, `failed`).
package struct SlotLeases: Sendable {
    /// What a slot's key says.
    package struct Entry: Sendable, Equatable {
        package var owner: String
        package var revision: UInt64

        package init(owner: String, revision: UInt64) {
            self.owner = owner
            self.revision = revision
        }
    }

    /// What the host does.
    package enum Action: Sendable, Equatable {
        /// Create the slot's key with this node's name (fails if it exists).
        case create(slot: Int)
        /// Update the key to this node's name if its revision is still this one (an expired holder).
        case takeOver(slot: Int, revision: UInt64)
        /// Update the key (still this node's) if its revision is still this one.
        case renew(slot: Int, revision: UInt64)
        /// Delete the key if its revision is still this one.
        case release(slot: Int, revision: UInt64)
        /// The app may open a connection for this slot.
        case open(slot: Int)
        /// Close the connection of this slot now.
        case close(slot: Int)
    }

    private enum Slot: Sendable, Equatable {
        /// Not read yet, or lost track of (after a fence).
        case unknown
        /// No key.
        case free
        /// Another node's, last seen changing at `seen`.
        case theirs(Entry, seen: ContinuousClock.Instant)
        /// Ours: the revision we wrote, when the renewal that wrote it was sent, and whether
        /// the app was told to open its connection.
        case ours(revision: UInt64, sent: ContinuousClock.Instant, opened: Bool)
    }

    package let node: String
    package let ttl: Duration
    /// How many slots this node wants (the app's pool size here).
    package private(set) var wanted: Int
    private var slots: [Slot]
    /// Actions sent and not answered yet, by slot, with when they were sent.
    private var pending: [Int: (action: Action, sent: ContinuousClock.Instant)] = [:]

    package init(node: String, slots: Int, wanted: Int, ttl: Duration) {
        self.node = node
        self.ttl = ttl
        self.wanted = max(0, wanted)
        self.slots = Array(repeating: .unknown, count: max(0, slots))
    }

    /// The number of slots shared.
    package var slotCount: Int { slots.count }

    /// The slots this node holds now.
    package var held: [Int] {
        slots.indices.filter { if case .ours = slots[$0] { true } else { false } }
    }

    /// Sets how many slots this node wants.
    package mutating func want(_ count: Int) {
        wanted = max(0, count)
    }

    /// A read (or watch update) of slot `slot`'s key at `now`: nil when it has no key.
    package mutating func observe(slot: Int, entry: Entry?, at now: ContinuousClock.Instant) -> [Action] {
        guard slots.indices.contains(slot) else { return [] }
        switch (slots[slot], entry) {
        case (.ours(let revision, _, let opened), let entry):
            // Our own write coming back is nothing new; anything else means the slot is gone.
            guard let entry, entry.owner == node, entry.revision == revision else {
                slots[slot] = entry.map { .theirs($0, seen: now) } ?? .free
                return opened ? [.close(slot: slot)] : []
            }
            return []
        case (_, let entry?) where entry.owner == node:
            // A key naming this node that it does not hold (fenced, or a previous run of it):
            // no other node uses that slot (taking it over writes the taker's name), so it may
            // be taken back at once, on its revision.
            slots[slot] = .theirs(entry, seen: now - ttl)
        case (.theirs(let known, let seen), let entry?):
            // The expiry clock restarts only when the key changed.
            slots[slot] = .theirs(entry, seen: known == entry ? seen : now)
        case (_, let entry?):
            slots[slot] = .theirs(entry, seen: now)
        case (_, nil):
            slots[slot] = .free
        }
        return []
    }

    /// The bucket accepted `action` and the key's revision is now `revision`.
    package mutating func succeeded(_ action: Action, revision: UInt64, at now: ContinuousClock.Instant) {
        guard let slot = action.slot, let sent = pending.removeValue(forKey: slot)?.sent else { return }
        switch action {
        case .create, .takeOver:
            slots[slot] = .ours(revision: revision, sent: sent, opened: false)
        case .renew:
            if case .ours(_, _, let opened) = slots[slot] { slots[slot] = .ours(revision: revision, sent: sent, opened: opened) }
        case .release:
            slots[slot] = .free
        case .open, .close:
            break
        }
    }

    /// The bucket refused `action`: `conflict` when the key was not as expected (another node
    /// wrote it), false for an error that says nothing about the key (a timeout).
    package mutating func failed(_ action: Action, conflict: Bool, at now: ContinuousClock.Instant) -> [Action] {
        guard let slot = action.slot, pending.removeValue(forKey: slot) != nil else { return [] }
        switch action {
        case .renew where conflict:
            let opened = if case .ours(_, _, let opened) = slots[slot] { opened } else { false }
            slots[slot] = .unknown
            return opened ? [.close(slot: slot)] : []
        case .create, .takeOver:
            if conflict { slots[slot] = .unknown }
        case .release:
            slots[slot] = .unknown
        default:
            break
        }
        return []
    }

    /// What to do at `now`: fence, renew, open, take or give back slots.
    package mutating func tick(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        // Requests that never came back are forgotten after a lease time (the key is read again).
        for (slot, request) in pending where now - request.sent > ttl {
            pending[slot] = nil
            if case .renew = request.action {} else { slots[slot] = .unknown }
        }
        actions += fence(now: now)
        var holding = 0
        for slot in slots.indices {
            guard case .ours(let revision, let sent, let opened) = slots[slot] else { continue }
            holding += 1
            if !opened {
                slots[slot] = .ours(revision: revision, sent: sent, opened: true)
                actions.append(.open(slot: slot))
            }
            if pending[slot] == nil, now - sent >= ttl / 3 {
                actions.append(send(.renew(slot: slot, revision: revision), at: now))
            }
        }
        // Too many: give back the highest slots.
        if holding > wanted {
            for slot in held.reversed().prefix(holding - wanted) where pending[slot] == nil {
                guard case .ours(let revision, _, let opened) = slots[slot] else { continue }
                if opened { actions.append(.close(slot: slot)) }
                slots[slot] = .unknown
                actions.append(send(.release(slot: slot, revision: revision), at: now))
            }
        }
        // Too few: take free slots first, then expired ones.
        let taking = pending.values.count { request in
            switch request.action {
            case .create, .takeOver: true
            default: false
            }
        }
        var missing = min(wanted, holding) == wanted ? 0 : wanted - holding - taking
        for slot in slots.indices where missing > 0 && pending[slot] == nil {
            if case .free = slots[slot] {
                actions.append(send(.create(slot: slot), at: now))
                missing -= 1
            }
        }
        for slot in slots.indices where missing > 0 && pending[slot] == nil {
            if case .theirs(let entry, let seen) = slots[slot], now - seen >= ttl {
                actions.append(send(.takeOver(slot: slot, revision: entry.revision), at: now))
                missing -= 1
            }
        }
        return actions
    }

    /// Closes, at `now`, the slots not renewed within the lease time: before anyone may take
    /// them over. No I/O is needed for it, so the host also calls it between steps (a step
    /// can be slow while the servers do not answer).
    package mutating func fence(now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        for slot in slots.indices {
            guard case .ours(_, let sent, let opened) = slots[slot], now - sent >= ttl else { continue }
            slots[slot] = .unknown
            pending[slot] = nil
            if opened { actions.append(.close(slot: slot)) }
        }
        return actions
    }

    /// Who holds each slot as far as this node knows at `now` (nil: free, not known, or its
    /// holder's lease ran out).
    package func owners(now: ContinuousClock.Instant) -> [String?] {
        slots.map { slot in
            switch slot {
            case .ours: node
            case .theirs(let entry, let seen) where now - seen < ttl: entry.owner
            default: nil
            }
        }
    }

    private mutating func send(_ action: Action, at now: ContinuousClock.Instant) -> Action {
        if let slot = action.slot { pending[slot] = (action, now) }
        return action
    }
}

extension SlotLeases.Action {
    /// The slot the action is about.
    package var slot: Int? {
        switch self {
        case .create(let slot), .takeOver(let slot, _), .renew(let slot, _), .release(let slot, _), .open(let slot), .close(let slot):
            slot
        }
    }
}
