import SockeyeCore
import Testing

/// The ack guard with `ackGuardAwaitsTake`: it answers only deliveries the host's consumer
/// has taken out of its queue.
@Suite("Pool: the ack guard acks only taken deliveries")
struct PoolTakenTests {
    private func harness() -> PoolHarness {
        PoolHarness {
            $0.poolSize = 1
            $0.ackGuardAwaitsTake = true
        }
    }

    @Test("a delivery still queued is never acked by the guard, before or after Slack's deadline")
    func queuedIsNotGuarded() {
        var h = harness()
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "env-1"), on: id).deliveries[0].token
        let passed = h.run(for: .seconds(10))
        #expect(passed.acks.isEmpty)
        #expect(!passed.notices.contains(.ackGuardFired(token)))
        #expect(h.pool.metrics.ackGuardFired == 0)
        #expect(h.pool.metrics.ackGuardWithheld == 1)
        // Taken after its guard time: the guard answers it at once.
        let takenLate = h.pool.taken(token, now: h.now)
        #expect(takenLate)
        let overdue = h.drain()
        #expect(overdue.acks.map(\.1) == ["env-1"])
        #expect(overdue.notices.contains(.ackGuardFired(token)))
        #expect(h.pool.ack(token, now: h.now) == .alreadyAcked)
    }

    @Test("a taken delivery is acked by the guard before Slack's deadline")
    func takenIsGuarded() {
        var h = harness()
        let id = h.startLive(1)[0]
        let actions = h.frame(Frames.event(id: "env-1", eventID: "Ev1"), on: id)
            + h.frame(Frames.event(id: "env-2", eventID: "Ev2"), on: id)
        let tokens = actions.deliveries.map(\.token)
        #expect(tokens.count == 2)
        h.now = h.now + .milliseconds(500)
        let taken = h.pool.taken(tokens[1], now: h.now)
        #expect(taken)
        let guarded = h.run(for: .milliseconds(2100))
        // Only the taken one; the first, still queued, is left to Slack's redelivery.
        #expect(guarded.acks.map(\.1) == ["env-2"])
        #expect(guarded.notices.contains(.ackGuardFired(tokens[1])))
        #expect(!guarded.notices.contains(.ackGuardFired(tokens[0])))
        #expect(h.pool.metrics.ackGuardFired == 1)
        #expect(h.pool.ack(tokens[1], now: h.now) == .alreadyAcked)
    }

    @Test("Slack's redelivery of a queued event attaches to it and is acked with the host's ack")
    func redeliveryOfQueuedAttaches() {
        var h = harness()
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id).deliveries[0].token
        #expect(h.run(for: .seconds(4)).acks.isEmpty)
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev1", retry: 1), on: id)
        #expect(retry.deliveries.isEmpty)
        #expect(retry.acks.isEmpty)
        #expect(retry.notices == [.redeliveryCoalesced(id, into: token)])
        #expect(h.run(for: .seconds(10)).acks.isEmpty)
        // Taken at last: the guard acks the first copy and the attached retry together.
        _ = h.pool.taken(token, now: h.now)
        #expect(Set(h.drain().acks.map(\.1)) == ["a", "b"])
        #expect(h.pool.metrics.ackGuardFired == 1)
    }

    @Test("a delivery queued for minutes is still held: Slack's late retry attaches, and both are acked once it is taken")
    func queuedForMinutesStaysHeld() {
        var h = harness()
        let id = h.startLive(1)[0]
        // The consumer stopped: the host stopped reading, so the watchdogs wait.
        h.pool.setIntakePaused(true, now: h.now)
        let token = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id).deliveries[0].token
        // Five minutes, far past the 60 s a late entry is otherwise kept.
        let fiveMinutes = h.run(for: .seconds(300))
        #expect(fiveMinutes.acks.isEmpty)
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev1", retry: 3), on: id)
        #expect(retry.deliveries.isEmpty, "a retry of an event still queued must not be delivered again")
        #expect(retry.notices == [.redeliveryCoalesced(id, into: token)])
        h.pool.setIntakePaused(false, now: h.now)
        _ = h.pool.taken(token, now: h.now)
        let acked = h.drain()
        #expect(Set(acked.acks.map(\.1)) == ["a", "b"])
    }

    @Test("without a guard (acked only by the host), a queued delivery is held until taken, then for the late retention")
    func noGuardHoldsUntilTakenThenRetains() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackGuard = nil
            $0.ackGuardAwaitsTake = true
        }
        let id = h.startLive(1)[0]
        h.pool.setIntakePaused(true, now: h.now)
        let first = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id).deliveries[0].token
        let second = h.frame(Frames.event(id: "c", eventID: "Ev2"), on: id).deliveries[0].token
        let fiveMinutes = h.run(for: .seconds(300))
        #expect(fiveMinutes.acks.isEmpty)
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev1", retry: 3), on: id)
        #expect(retry.deliveries.isEmpty)
        h.pool.setIntakePaused(false, now: h.now)
        // Taken and acked late: the first copy and its attached retry are acked.
        let firstTaken = h.pool.taken(first, now: h.now)
        #expect(firstTaken)
        let firstAck = h.pool.ack(first, now: h.now)
        #expect(firstAck == .late)
        let acked = h.drain()
        #expect(Set(acked.acks.map(\.1)) == ["a", "b"])
        // Taken and never answered: held for the late retention from the take, then released,
        // so Slack's next retry reaches the host again.
        let secondTaken = h.pool.taken(second, now: h.now)
        #expect(secondTaken)
        _ = h.run(for: .seconds(59))
        let heldRetry = h.frame(Frames.event(id: "d", eventID: "Ev2", retry: 3), on: id)
        #expect(heldRetry.deliveries.isEmpty)
        _ = h.run(for: .seconds(2))
        let afterRetention = h.frame(Frames.event(id: "e", eventID: "Ev2", retry: 3), on: id)
        #expect(afterRetention.deliveries.count == 1)
    }

    @Test("without ackGuardAwaitsTake the guard covers every delivery (taken or not)")
    func defaultGuardsEverything() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "env-1"), on: id)
        #expect(h.run(for: .milliseconds(2600)).acks.map(\.1) == ["env-1"])
    }
}

@Suite("Pool: the watchdogs while the host does not read")
struct PoolIntakePauseTests {
    @Test("no silence or pong timeout while reading is stopped; they start afresh on resume")
    func watchdogsWait() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        h.pool.setIntakePaused(true, now: h.now)
        let paused = h.run(for: .seconds(120))
        #expect(!paused.contains { if case .abort = $0 { true } else { false } })
        #expect(h.pool.metrics.connectionsLost == 0)
        h.pool.setIntakePaused(false, now: h.now)
        _ = h.run(for: .seconds(20))
        #expect(h.liveIDs == [id])
        // Heard nothing for the silence timeout after the resume: that is a real loss.
        _ = h.run(for: .seconds(40))
        #expect(h.pool.metrics.connectionsLost == 1)
    }
}
