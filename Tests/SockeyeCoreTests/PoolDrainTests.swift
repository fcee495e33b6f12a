import SockeyeCore
import Testing

@Suite("Pool graceful drain on stop")
struct PoolDrainTests {
    @Test("stop drains: outstanding deliveries can still be acked, then connections close with 1000")
    func drainThenClose() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let first = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: ids[0]).deliveries[0].token
        let second = h.frame(Frames.event(id: "b", eventID: "Ev2"), on: ids[1]).deliveries[0].token
        let stop = h.handle(.stop)
        #expect(stop.closed.isEmpty)
        #expect(h.pool.state == .stopping)
        #expect(h.pool.ack(first, now: h.now) == .accepted)
        let afterFirst = h.drain()
        #expect(afterFirst.acks.map(\.1) == ["a"])
        #expect(afterFirst.closed.isEmpty)
        #expect(h.pool.ack(second, now: h.now) == .accepted)
        let afterSecond = h.drain()
        #expect(afterSecond.acks.map(\.1) == ["b"])
        // Acks go out before the close frames.
        let lastAck = afterSecond.lastIndex { if case .sendAck = $0 { true } else { false } }
        let firstClose = afterSecond.firstIndex { if case .close = $0 { true } else { false } }
        #expect(lastAck != nil && firstClose != nil && lastAck! < firstClose!)
        #expect(afterSecond.compactMap { (action) -> UInt16? in if case .close(_, let code) = action { code } else { nil } } == [1000, 1000])
        #expect(Set(afterSecond.closed) == Set(ids))
        _ = h.handle(.closed(ids[0], code: 1000))
        #expect(h.pool.state == .stopping)
        _ = h.handle(.closed(ids[1], code: 1000))
        #expect(h.pool.state == .stopped)
        #expect(h.pool.metrics.connectionsLost == 0)
    }

    @Test("envelopes arriving while stopping are neither delivered nor acked")
    func refusedWhileStopping() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id)
        _ = h.handle(.stop)
        let late = h.frame(Frames.event(id: "b", eventID: "Ev2"), on: id)
        #expect(late.deliveries.isEmpty)
        #expect(late.acks.isEmpty)
        // Not even a redelivery of the held event, and not later by the guard.
        let retry = h.frame(Frames.event(id: "c", eventID: "Ev1", retry: 1), on: id)
        #expect(retry.deliveries.isEmpty && retry.acks.isEmpty)
        #expect(h.pool.metrics.refusedWhileStopping == 2)
        #expect(h.run(for: .seconds(3)).acks.map(\.1) == ["a"])
    }

    @Test("the ack guard still answers during the drain, which then ends")
    func guardEndsDrain() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id)
        _ = h.handle(.stop)
        #expect(h.run(for: .milliseconds(2400)).closed.isEmpty)
        let guarded = h.run(for: .milliseconds(100))
        #expect(guarded.acks.map(\.1) == ["a"])
        #expect(guarded.closed == [id])
        #expect(h.pool.metrics.drainsTimedOut == 0)
    }

    @Test("the drain gives up at drainTimeout when the host never answers")
    func drainTimeout() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackGuard = nil
            $0.drainTimeout = .seconds(5)
        }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id)
        _ = h.handle(.stop)
        #expect(h.run(for: .milliseconds(4900)).closed.isEmpty)
        let end = h.run(for: .milliseconds(100))
        #expect(end.closed == [id])
        #expect(end.acks.isEmpty)
        #expect(end.notices.contains(.drainTimedOut(unacknowledged: 1)))
        #expect(h.pool.metrics.drainsTimedOut == 1)
    }

    @Test("a nack during the drain counts as an answer")
    func nackEndsDrain() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id).deliveries[0].token
        _ = h.handle(.stop)
        #expect(h.pool.nack(token, now: h.now) == .accepted)
        let actions = h.drain()
        #expect(actions.acks.isEmpty)
        #expect(actions.closed == [id])
    }

    @Test("stopNow closes every connection at once, without waiting for acks")
    func stopNow() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        _ = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: ids[0])
        #expect(Set(h.handle(.stopNow).closed) == Set(ids))
        #expect(h.pool.state == .stopping)
    }

    @Test("stopNow during a drain ends it")
    func stopNowDuringDrain() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id)
        #expect(h.handle(.stop).closed.isEmpty)
        #expect(h.handle(.stopNow).closed == [id])
        #expect(h.handle(.stop).closed.isEmpty)
    }

    @Test("on stop, connections not live yet close at once and no new one opens")
    func pendingConnectionsCloseAtOnce() {
        var h = PoolHarness { $0.poolSize = 2 }
        let live = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: live)
        _ = h.run(for: .seconds(1))
        let pending = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(pending))
        let stop = h.handle(.stop)
        #expect(stop.closed == [pending])
        #expect(h.run(for: .seconds(2)).urlRequests == 0)
    }

    @Test("with nothing outstanding, stop closes at once")
    func idleStopClosesAtOnce() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        #expect(h.handle(.stop).closed == [id])
        _ = h.handle(.closed(id, code: 1000))
        #expect(h.pool.state == .stopped)
    }
}
