import SockeyeCore
import Testing

/// Feeds `count` new events on the first live connection (event ids from `serial`), and
/// acks each at once when `ack` is set.
private func feed(_ h: inout PoolHarness, _ count: Int, serial: inout Int, ack: Bool) -> [PoolAction] {
    guard let id = h.liveIDs.first else { return [] }
    var out: [PoolAction] = []
    for _ in 0..<count {
        serial += 1
        let actions = h.frame(Frames.event(id: "env-\(serial)", eventID: "Ev\(serial)"), on: id)
        out += actions
        if ack {
            for delivery in actions.deliveries { _ = h.pool.ack(delivery.token, now: h.now) }
            out += h.drain()
        }
    }
    return out
}

@Suite("Dynamic pool sizing")
struct PoolSizingTests {
    @Test("the pool grows under sustained in-flight load and shrinks after it falls")
    func growsAndShrinksOnInFlight() throws {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 3
            $0.growInFlightPerConnection = 10
        }
        _ = h.startLive(1)
        let start = h.now
        var serial = 0
        // 12 envelopes a second, acked only by the guard after 2.5 s: 24 in flight when
        // measured — above 10 per connection for one and two connections, not for three.
        let loaded = h.serve(for: .seconds(30)) { feed(&$0, 12, serial: &serial, ack: false) }
        #expect(h.resizes.map(\.from) == [1, 2])
        try #require(h.resizes.map(\.to) == [2, 3])
        #expect(h.resizes[0].at - start >= .seconds(5))
        #expect(h.resizes[1].at - h.resizes[0].at >= .seconds(10))
        #expect(h.resizes.allSatisfy { $0.reason.hasPrefix("in-flight") })
        #expect(h.pool.poolTarget == 3)
        #expect(h.liveIDs.count == 3)
        #expect(loaded.connectedIDs.count == 2)
        #expect(h.pool.metrics.poolGrown == 2)
        // Load gone: one step down after 60 s below half the thresholds, another 60 s later.
        h.resizes = []
        let quiet = h.now
        let idle = h.serve(for: .seconds(130))
        try #require(h.resizes.map(\.to) == [2, 1])
        #expect(h.resizes[0].at - quiet >= .seconds(60))
        #expect(h.resizes[1].at - h.resizes[0].at >= .seconds(60))
        #expect(h.resizes[0].reason.contains("for 6"))
        #expect(idle.closed.count == 2)
        #expect(h.liveIDs.count == 1)
        #expect(h.pool.poolTarget == 1)
        #expect(h.pool.metrics.poolShrunk == 2)
        #expect(h.pool.metrics.connectionsLost == 0)
    }

    @Test("the pool grows under a sustained delivery rate, with the rate in the reason")
    func growsOnRate() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 2
            $0.growRatePerConnection = 10
        }
        _ = h.startLive(1)
        var serial = 0
        _ = h.serve(for: .seconds(20)) { feed(&$0, 15, serial: &serial, ack: true) }
        #expect(h.resizes.count == 1)
        #expect(h.resizes.first?.reason == "rate 15/s per connection > 10/s for 5 s")
        #expect(h.liveIDs.count == 2)
    }

    @Test("a burst shorter than growAfter does not grow the pool")
    func shortBurst() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 3
            $0.growRatePerConnection = 10
        }
        _ = h.startLive(1)
        var serial = 0
        _ = h.serve(for: .seconds(4)) { feed(&$0, 100, serial: &serial, ack: true) }
        _ = h.serve(for: .seconds(30))
        #expect(h.resizes.isEmpty)
        #expect(h.pool.poolTarget == 1)
    }

    @Test("a load between half and the full threshold never resizes")
    func hysteresisBand() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 3
            $0.growRatePerConnection = 20
            $0.shrinkAfter = .seconds(5)
        }
        _ = h.startLive(1)
        var serial = 0
        // Grow once (50 a second on one connection) ...
        _ = h.serve(for: .seconds(8)) { feed(&$0, 50, serial: &serial, ack: true) }
        #expect(h.resizes.map(\.to) == [2])
        // ... then 30 a second over two connections: 15 per connection, between 10 and 20.
        _ = h.serve(for: .seconds(120)) { feed(&$0, 30, serial: &serial, ack: true) }
        #expect(h.resizes.map(\.to) == [2])
        #expect(h.pool.poolTarget == 2)
    }

    @Test("no flapping: a load oscillating around the threshold does not resize more often than the cooldown")
    func noFlapping() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 5
            $0.growRatePerConnection = 20
            $0.growAfter = .seconds(1)
            $0.shrinkAfter = .seconds(2)
            $0.resizeCooldown = .seconds(10)
        }
        _ = h.startLive(1)
        var serial = 0
        var second = 0
        // Three seconds far above the grow threshold, three seconds idle, for two minutes.
        _ = h.serve(for: .seconds(120)) {
            second += 1
            return (second / 3) % 2 == 0 ? feed(&$0, 100, serial: &serial, ack: true) : []
        }
        #expect(h.resizes.count >= 4)  // it does resize: grows and shrinks
        #expect(h.resizes.contains { $0.to < $0.from })
        for (earlier, later) in zip(h.resizes, h.resizes.dropFirst()) {
            #expect(later.at - earlier.at >= .seconds(10))
        }
    }

    @Test("never above 10 or connectionBudget - 1")
    func sizeBounds() throws {
        var wide = PoolConfiguration()
        wide.poolSize = 2
        wide.maxPoolSize = 50
        #expect(PoolHarness { $0 = wide }.pool.configuration.maxPoolSize == 9)
        wide.connectionBudget = 5
        #expect(PoolHarness { $0 = wide }.pool.configuration.maxPoolSize == 4)
        wide.maxPoolSize = 1  // below poolSize: static
        #expect(PoolHarness { $0 = wide }.pool.configuration.maxPoolSize == 2)

        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 10
            $0.connectionBudget = 4
            $0.growRatePerConnection = 1
            $0.resizeCooldown = .seconds(1)
            $0.growAfter = .seconds(1)
        }
        _ = h.startLive(1)
        var serial = 0
        var most = 0
        _ = h.serve(for: .seconds(120)) {
            most = max(most, $0.pool.connectionSummary.count)
            return feed(&$0, 50, serial: &serial, ack: true)
        }
        #expect(h.pool.poolTarget == 3)
        try #require(h.liveIDs.count == 3)
        #expect(most <= 3)
        #expect(h.resizes.map(\.to) == [2, 3])
        // The spare slot is there for a refresh: make-before-break still works at the top.
        let refreshed = h.react(h.frame(Frames.disconnect("refresh_requested"), on: h.liveIDs[0]))
        #expect(refreshed.connectedIDs.count == 1)
        #expect(h.liveIDs.count == 3)
    }

    @Test("an idle static pool schedules no evaluation timer; a dynamic one does, only while running")
    func evaluationTimer() {
        var fixed = PoolHarness { $0.poolSize = 1 }
        _ = fixed.startLive(1)
        // The next wake-up is the keep-alive ping, 10 s away.
        #expect(fixed.pool.nextDeadline(now: fixed.now) == fixed.now + .seconds(10))
        var same = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 1
        }
        _ = same.startLive(1)
        #expect(same.pool.nextDeadline(now: same.now) == same.now + .seconds(10))

        var dynamic = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 2
        }
        #expect(dynamic.pool.nextDeadline(now: dynamic.now) == nil)
        let id = dynamic.startLive(1)[0]
        #expect(dynamic.pool.nextDeadline(now: dynamic.now) == dynamic.now + .seconds(1))
        _ = dynamic.handle(.stop)
        _ = dynamic.handle(.closed(id, code: 1000))
        #expect(dynamic.pool.nextDeadline(now: dynamic.now) == nil)
    }

    @Test("too_many_websockets takes precedence: no growth while it holds the pool back")
    func tooManyWebsocketsHoldsGrowth() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 3
            $0.growRatePerConnection = 10
        }
        _ = h.startLive(1)
        h.refuseConnections = 1
        var serial = 0
        let first = h.serve(for: .seconds(8)) { feed(&$0, 40, serial: &serial, ack: true) }
        #expect(h.resizes.map(\.to) == [2])
        #expect(h.pool.metrics.tooManyWebsockets == 1)
        #expect(first.notices.contains { if case .tooManyWebsockets = $0 { true } else { false } })
        #expect(h.pool.poolTarget == 1)
        // Still far above the threshold, but Slack said no: the pool waits (at least 15 s).
        _ = h.serve(for: .seconds(13)) { feed(&$0, 40, serial: &serial, ack: true) }
        #expect(h.resizes.count == 1)
        #expect(h.pool.poolTarget == 1)
        #expect(h.liveIDs.count == 1)
        // After the backoff it regrows to the size it wanted, then resumes growing.
        _ = h.serve(for: .seconds(60)) { feed(&$0, 40, serial: &serial, ack: true) }
        #expect(h.resizes.map(\.to) == [2, 3])
        #expect(h.liveIDs.count == 3)
    }

    @Test("shrinking closes the least busy connection gracefully; its acks go out on another")
    func shrinkClosesGracefully() throws {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxPoolSize = 2
            $0.ackGuard = nil
            $0.ackDeadline = .seconds(60)
            $0.growInFlightPerConnection = 4
            $0.growAfter = .seconds(1)
            $0.shrinkAfter = .seconds(2)
            $0.resizeCooldown = .seconds(1)
        }
        let old = h.startLive(1)[0]
        let held = h.events(10, prefix: "old", on: old).deliveries.map(\.token)
        _ = h.serve(for: .seconds(3))
        try #require(h.resizes.map(\.to) == [2] && h.liveIDs.count == 2)
        let new = h.liveIDs[1]
        _ = h.events(2, prefix: "new", on: new)
        for token in held.dropFirst() { #expect(h.pool.ack(token, now: h.now) == .accepted) }
        _ = h.drain()
        // Now 1 held on the old connection, 2 on the new: below half of 4 per connection.
        let shrink = h.serve(for: .seconds(4))
        #expect(h.resizes.map(\.to) == [2, 1])
        #expect(shrink.contains(.close(old, code: 1000)))
        #expect(h.liveIDs == [new])
        #expect(h.pool.ack(held[0], now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.0) == [new])
        #expect(h.pool.metrics.connectionsLost == 0)
    }
}
