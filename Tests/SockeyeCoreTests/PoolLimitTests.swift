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
}
