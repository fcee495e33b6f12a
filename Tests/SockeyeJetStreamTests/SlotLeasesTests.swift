import Testing

@testable import SockeyeJetStream

/// The cluster's connection slots, decided without a bucket or a clock: single-node steps,
/// then several nodes on a shared in-memory bucket, one of them stalling.
@Suite("SlotLeases: take, renew, fence, take over")
struct SlotLeasesTests {
    private let start = ContinuousClock.now
    private let ttl: Duration = .seconds(9)

    private func at(_ seconds: Double) -> ContinuousClock.Instant { start + .milliseconds(Int64(seconds * 1000)) }

    @Test("free slots are created, then opened once they are ours")
    func takeFreeSlots() {
        var leases = SlotLeases(node: "a", slots: 9, wanted: 2, ttl: ttl)
        for slot in 0..<9 { _ = leases.observe(slot: slot, entry: nil, at: at(0)) }
        #expect(leases.tick(now: at(0)) == [.create(slot: 0), .create(slot: 1)])
        #expect(leases.tick(now: at(0.1)).isEmpty)  // in flight: not asked twice
        leases.succeeded(.create(slot: 0), revision: 10, at: at(0.2))
        leases.succeeded(.create(slot: 1), revision: 11, at: at(0.2))
        #expect(leases.tick(now: at(0.3)) == [.open(slot: 0), .open(slot: 1)])
        #expect(leases.held == [0, 1])
    }

    @Test("renewed every third of the lease; a lease not renewed in time is closed")
    func renewAndFence() {
        var leases = SlotLeases(node: "a", slots: 3, wanted: 1, ttl: ttl)
        _ = leases.observe(slot: 0, entry: nil, at: at(0))
        _ = leases.tick(now: at(0))
        leases.succeeded(.create(slot: 0), revision: 5, at: at(0.1))
        #expect(leases.tick(now: at(1)) == [.open(slot: 0)])
        #expect(leases.tick(now: at(3)) == [.renew(slot: 0, revision: 5)])
        leases.succeeded(.renew(slot: 0, revision: 5), revision: 8, at: at(3.1))
        #expect(leases.tick(now: at(6)) == [.renew(slot: 0, revision: 8)])
        // That renewal never comes back: 9 s after the last one that did (sent at 3 s), the
        // slot is closed.
        #expect(leases.tick(now: at(11.9)).isEmpty)
        #expect(leases.tick(now: at(12)).contains(.close(slot: 0)))
        #expect(leases.held.isEmpty)
    }

    @Test("a renewal refused on its revision closes the slot at once")
    func lostOnConflict() {
        var leases = SlotLeases(node: "a", slots: 1, wanted: 1, ttl: ttl)
        _ = leases.observe(slot: 0, entry: nil, at: at(0))
        _ = leases.tick(now: at(0))
        leases.succeeded(.create(slot: 0), revision: 5, at: at(0))
        _ = leases.tick(now: at(0.5))
        #expect(leases.tick(now: at(3)) == [.renew(slot: 0, revision: 5)])
        #expect(leases.failed(.renew(slot: 0, revision: 5), conflict: true, at: at(3.1)) == [.close(slot: 0)])
        #expect(leases.held.isEmpty)
    }

    @Test("seeing another node in our slot closes it")
    func lostOnObservation() {
        var leases = SlotLeases(node: "a", slots: 1, wanted: 1, ttl: ttl)
        _ = leases.observe(slot: 0, entry: nil, at: at(0))
        _ = leases.tick(now: at(0))
        leases.succeeded(.create(slot: 0), revision: 5, at: at(0))
        _ = leases.tick(now: at(0.5))
        #expect(leases.observe(slot: 0, entry: .init(owner: "a", revision: 5), at: at(1)).isEmpty)
        #expect(leases.observe(slot: 0, entry: .init(owner: "b", revision: 9), at: at(2)) == [.close(slot: 0)])
    }

    @Test("another's slot is taken over only after a full lease without a change, on the revision seen")
    func takeOverExpired() {
        var leases = SlotLeases(node: "a", slots: 1, wanted: 1, ttl: ttl)
        _ = leases.observe(slot: 0, entry: .init(owner: "b", revision: 3), at: at(0))
        #expect(leases.tick(now: at(8)).isEmpty)
        _ = leases.observe(slot: 0, entry: .init(owner: "b", revision: 4), at: at(8.5))  // b renewed
        #expect(leases.tick(now: at(17)).isEmpty)
        _ = leases.observe(slot: 0, entry: .init(owner: "b", revision: 4), at: at(17))   // unchanged
        #expect(leases.tick(now: at(17.5)) == [.takeOver(slot: 0, revision: 4)])
    }

    @Test("wanting fewer closes and gives back the highest slots")
    func shrink() {
        var leases = SlotLeases(node: "a", slots: 4, wanted: 3, ttl: ttl)
        for slot in 0..<4 { _ = leases.observe(slot: slot, entry: nil, at: at(0)) }
        for action in leases.tick(now: at(0)) { leases.succeeded(action, revision: UInt64(action.slot! + 1), at: at(0)) }
        _ = leases.tick(now: at(0.5))
        leases.want(1)
        #expect(leases.tick(now: at(1)) == [.close(slot: 2), .release(slot: 2, revision: 3), .close(slot: 1), .release(slot: 1, revision: 2)])
        #expect(leases.held == [0])
    }

    /// A bucket in memory: keys with owners and revisions, compare-and-swap like JetStream KV.
    private struct Bucket {
        var keys: [Int: SlotLeases.Entry] = [:]
        var revision: UInt64 = 0

        /// Carries out `action` for `node`: the new revision, or nil (conflict).
        mutating func apply(_ action: SlotLeases.Action, by node: String) -> UInt64? {
            switch action {
            case .create(let slot):
                guard keys[slot] == nil else { return nil }
            case .takeOver(let slot, let expected), .renew(let slot, let expected):
                guard keys[slot]?.revision == expected else { return nil }
            case .release(let slot, let expected):
                guard keys[slot]?.revision == expected else { return nil }
                keys[slot] = nil
                revision += 1
                return revision
            case .open, .close:
                return nil
            }
            revision += 1
            keys[action.slot!] = .init(owner: node, revision: revision)
            return revision
        }
    }

    @Test("three nodes: never two running nodes on one slot, at most the slots; a stalled node's slots are taken over, and it closes them first thing on waking")
    func threeNodesAndAStall() {
        let slots = 9
        var bucket = Bucket()
        // b and c want more than they can have while a holds its share.
        var nodes = [SlotLeases(node: "a", slots: slots, wanted: 3, ttl: ttl), SlotLeases(node: "b", slots: slots, wanted: 4, ttl: ttl),
                     SlotLeases(node: "c", slots: slots, wanted: 4, ttl: ttl)]
        var open: [String: Set<Int>] = ["a": [], "b": [], "c": []]
        let stall = 20.0...40.0  // node a does nothing then (SIGSTOP)
        var heldBeforeStall: Set<Int> = []
        var time = 0.0
        while time < 80 {
            for index in nodes.indices {
                let name = nodes[index].node
                if name == "a" && stall.contains(time) { continue }
                let now = at(time)
                var actions: [SlotLeases.Action] = []
                for slot in 0..<slots { actions += nodes[index].observe(slot: slot, entry: bucket.keys[slot], at: now) }
                actions += nodes[index].tick(now: now)
                if name == "a" && time == stall.upperBound + 0.5 {
                    // Waking: every slot it had open is closed, before anything is opened.
                    let closes = actions.prefix { if case .close = $0 { true } else { false } }
                    #expect(Set(closes.compactMap(\.slot)) == heldBeforeStall, "\(actions)")
                }
                for action in actions {
                    switch action {
                    case .open(let slot): open[name]!.insert(slot)
                    case .close(let slot): open[name]!.remove(slot)
                    default:
                        if let revision = bucket.apply(action, by: name) {
                            nodes[index].succeeded(action, revision: revision, at: now)
                        } else {
                            for follow in nodes[index].failed(action, conflict: true, at: now) {
                                if case .close(let slot) = follow { open[name]!.remove(slot) }
                            }
                        }
                    }
                }
                // Safety among the nodes that run, after every step of every node.
                let running = open.filter { !($0.key == "a" && stall.contains(time)) }.values.flatMap { $0 }
                #expect(running.count == Set(running).count, "two running nodes on one slot at \(time) s: \(open)")
                #expect(running.count <= slots)
            }
            if time == stall.lowerBound - 0.5 {
                heldBeforeStall = open["a"]!
                #expect(heldBeforeStall.count == 3, "\(open)")
            }
            if time == stall.upperBound {
                // Taken over after a full lease without a renewal.
                #expect(open["b"]!.count == 4 && open["c"]!.count == 4, "\(open)")
            }
            time += 0.5
        }
        #expect(open["a"]!.count == 1 && open["b"]!.count == 4 && open["c"]!.count == 4, "\(open)")
    }
}
