import SockeyeCore
import Testing

/// The host's limit on the pool's connections (a cluster's slots), without sockets or a clock.
@Suite("PoolController: the host's connection limit")
struct PoolLimitTests {
    @Test("a lower limit closes the surplus at once and opens nothing; lifting it opens them again")
    func lowerThenLift() {
        var h = PoolHarness { $0.poolSize = 3 }
        let ids = h.startLive(3)
        #expect(ids.count == 3)
        let closing = h.handle(.limitConnections(1))
        #expect(closing.closed.count == 2)
        #expect(closing.urlRequests == 0)
        #expect(h.pool.poolTarget == 1)
        for id in closing.closed { _ = h.handle(.closed(id, code: 1000)) }
        #expect(h.pool.state == .running(live: 1, target: 1))
        #expect(h.liveIDs.count == 1)
        // Nothing more is opened while the limit holds; the one kept is kept up (pongs answered).
        let later = h.serve(for: .seconds(30)) { _ in [] }
        #expect(later.urlRequests == 0, "\(later.notices)")
        #expect(h.liveIDs.count == 1)
        // Lifted: the pool goes back to its size.
        _ = h.handle(.limitConnections(nil))
        var opened = 1
        for _ in 0..<10 where opened < 3 {
            if h.urlRequested, let id = h.answerURL().connectedIDs.first {
                _ = h.handle(.opened(id))
                _ = h.frame(Frames.hello(), on: id)
                opened += 1
            } else {
                _ = h.run(for: .seconds(5))
            }
        }
        #expect(opened == 3)
        #expect(h.pool.poolTarget == 3)
    }

    @Test("limit 0 closes every connection; a URL that arrives after a lower limit is dropped unused")
    func zeroAndStaleURL() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(1)
        // The second connection's URL was asked for; the limit drops before it arrives.
        if !h.urlRequested { _ = h.run(for: .seconds(5)) }
        #expect(h.urlRequested)
        let closing = h.handle(.limitConnections(0))
        #expect(closing.closed.count == 1)
        #expect(h.answerURL().connectedIDs.isEmpty)
        #expect(h.pool.poolTarget == 0)
    }

    @Test("under a limit, a lost connection is replaced, up to the limit")
    func lossUnderLimit() {
        var h = PoolHarness { $0.poolSize = 3 }
        let ids = h.startLive(3)
        let closing = h.handle(.limitConnections(2))
        for id in closing.closed { _ = h.handle(.closed(id, code: 1000)) }
        let lost = h.liveIDs[0]
        _ = h.handle(.closed(lost, code: nil))
        let after = h.serve(for: .seconds(30)) { _ in [] }
        #expect(after.urlRequests == 1, "\(after.notices)")
        #expect(h.liveIDs.count == 2 && !h.liveIDs.contains(lost) && ids.count == 3)
    }

    @Test("down to 0 and lifted: the pool opens its connections again")
    func zeroThenLift() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(2)
        let closing = h.handle(.limitConnections(0))
        #expect(closing.closed.count == 2)
        _ = h.react(closing)
        #expect(h.liveIDs.isEmpty)
        let lifted = h.handle(.limitConnections(nil))
        let served = h.react(lifted) + h.serve(for: .seconds(10)) { _ in [] }
        #expect(served.urlRequests >= 2, "\(h.pool.state) \(served)")
        #expect(h.liveIDs.count == 2, "\(h.pool.state)")
    }

    @Test("a limit above the pool's size changes nothing")
    func highLimit() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(2)
        let actions = h.handle(.limitConnections(9))
        #expect(actions.closed.isEmpty && actions.urlRequests == 0)
        #expect(h.pool.poolTarget == 2)
    }

    @Test("at its limit with no spare, a connection Slack recycles closes before its replacement opens")
    func refreshWithoutSpare() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(2)
        _ = h.handle(.limitConnections(2))
        let old = h.liveIDs[0]
        // A warning alone waits: no socket can be added.
        let warned = h.frame(Frames.disconnect("warning"), on: old) + h.run(for: .seconds(5))
        #expect(warned.urlRequests == 0 && warned.closed.isEmpty)
        // refresh_requested: break before make.
        let refreshed = h.frame(Frames.disconnect("refresh_requested"), on: old)
        #expect(refreshed.closed == [old])
        #expect(refreshed.urlRequests == 0)
        #expect(h.run(for: .seconds(2)).urlRequests == 0, "the old socket is still closing")
        #expect(h.pool.connectionSummary.count == 2)
        let replaced = h.react(h.handle(.closed(old, code: 1000))) + h.serve(for: .seconds(10))
        #expect(replaced.urlRequests == 1)
        #expect(h.liveIDs.count == 2 && !h.liveIDs.contains(old))
    }

    @Test("with a spare, the replacement opens first, within limit + spare sockets")
    func refreshWithSpare() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(2)
        _ = h.handle(.limitConnections(ConnectionLimit(connections: 2, spare: 1)))
        let old = h.liveIDs[0]
        _ = h.frame(Frames.disconnect("warning"), on: old)
        if !h.urlRequested { _ = h.run(for: .seconds(5)) }
        #expect(h.urlRequested)
        let opened = h.answerURL()
        let new = opened.connectedIDs
        #expect(new.count == 1)
        #expect(h.pool.connectionSummary.count == 3)
        _ = h.handle(.opened(new[0]))
        _ = h.frame(Frames.hello(), on: new[0])
        let refreshed = h.frame(Frames.disconnect("refresh_requested"), on: old)
        #expect(refreshed.closed == [old])
        // No fourth socket at any point.
        #expect(h.run(for: .seconds(10)).urlRequests == 0)
        #expect(h.pool.connectionSummary.count <= 3)
    }

    @Test("a spare taken back closes the connection waiting for its replacement")
    func spareTakenBack() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(2)
        _ = h.handle(.limitConnections(ConnectionLimit(connections: 2, spare: 1)))
        let old = h.liveIDs[0]
        _ = h.frame(Frames.disconnect("warning"), on: old)
        if !h.urlRequested { _ = h.run(for: .seconds(5)) }
        let new = h.answerURL().connectedIDs
        #expect(new.count == 1)
        // The spare goes before the replacement is live: the sockets fall back to two at once.
        let back = h.handle(.limitConnections(2))
        #expect(back.closed == [old])
        #expect(h.pool.connectionSummary.filter { $0.phase != .closing }.count == 2)
        _ = h.handle(.closed(old, code: 1000))
        _ = h.handle(.opened(new[0]))
        _ = h.frame(Frames.hello(), on: new[0])
        #expect(h.liveIDs.count == 2 && !h.liveIDs.contains(old))
    }

    @Test("ConnectionLimit: negative values are 0, sockets never overflow")
    func limitValues() {
        #expect(ConnectionLimit(connections: -3, spare: -1) == 0)
        #expect(ConnectionLimit(connections: .max, spare: 5).sockets == .max)
        #expect(ConnectionLimit(connections: 3, spare: 1).sockets == 4)
        #expect(ConnectionLimit(connections: 3, spare: 1).description == "3+1 spare")
    }
}
