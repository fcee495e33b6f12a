import SockeyeCore
import Testing

@Suite("Pool nacks and redeliveries of unacknowledged events")
struct PoolRedeliveryTests {
    @Test("a nacked event is delivered again when Slack redelivers it")
    func nackedEventRedelivered() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev1"), on: id).deliveries[0].token
        #expect(h.pool.nack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.isEmpty)
        #expect(h.pool.metrics.nacked == 1)
        #expect(h.pool.outstandingAcks == 0)
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev1", retry: 1), on: id)
        #expect(retry.deliveries.count == 1)
        #expect(retry.acks.isEmpty)
        #expect(h.pool.metrics.duplicatesDropped == 0)
        #expect(h.pool.metrics.redeliveriesReceived == 1)
    }

    @Test("nack cancels the ack guard, and a nacked token can be neither acked nor nacked again")
    func nackCancelsGuard() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev2"), on: id).deliveries[0].token
        #expect(h.pool.nack(token, now: h.now) == .accepted)
        let later = h.serve(for: .seconds(5))
        #expect(later.acks.isEmpty)
        #expect(!later.notices.contains(.ackGuardFired(token)))
        #expect(h.pool.metrics.ackGuardFired == 0)
        #expect(h.pool.ack(token, now: h.now) == .alreadyAcked)
        #expect(h.pool.nack(token, now: h.now) == .alreadyAcked)
        #expect(h.pool.nack(DeliveryToken(rawValue: 999), now: h.now) == .unknown)
    }

    @Test("a nack after the ack guard fired is too late")
    func nackAfterGuard() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev3"), on: id).deliveries[0].token
        #expect(h.run(for: .seconds(3)).acks.map(\.1) == ["a"])
        #expect(h.pool.nack(token, now: h.now) == .alreadyAcked)
        #expect(h.pool.metrics.nacked == 0)
    }

    @Test("on-receipt mode cannot nack: the envelope was acked before the host saw it")
    func nackOnReceipt() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackMode = .onReceipt
        }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev4"), on: id).deliveries[0].token
        #expect(h.pool.nack(token, now: h.now) == .alreadyAcked)
        // So a redelivery is a duplicate: acked at once.
        #expect(h.frame(Frames.event(id: "b", eventID: "Ev4", retry: 1), on: id).acks.map(\.1) == ["b"])
    }

    @Test("a redelivery while the first copy is unacked is acked together with the first copy and never delivered twice")
    func redeliveryAckedWithFirst() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let token = h.frame(Frames.event(id: "a", eventID: "Ev5"), on: ids[0]).deliveries[0].token
        h.now = h.now + .milliseconds(500)
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev5", retry: 1), on: ids[1])
        #expect(retry.deliveries.isEmpty)
        #expect(retry.acks.isEmpty)
        #expect(retry.notices == [.redeliveryCoalesced(ids[1], into: token)])
        #expect(h.pool.metrics.redeliveriesCoalesced == 1)
        #expect(h.pool.metrics.redeliveriesReceived == 1)
        let body = #"{"text":"ok"}"#
        let outcome = Array(body.utf8).withUnsafeBytes { h.pool.ack(token, payload: $0, now: h.now) }
        #expect(outcome == .accepted)
        let acks = h.drain().acks
        // Each on its own arrival connection, with the same response payload.
        #expect(acks.map(\.0) == [ids[0], ids[1]])
        #expect(acks.map(\.1) == ["a", "b"])
        #expect(acks.allSatisfy { $0.2 == Array(body.utf8) })
        #expect(h.pool.metrics.envelopesDelivered == 1)
    }

    @Test("the ack guard acks the first copy and its attached redeliveries together")
    func guardAcksAttached() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev6"), on: id).deliveries[0].token
        h.now = h.now + .seconds(1)
        _ = h.frame(Frames.event(id: "b", eventID: "Ev6", retry: 1), on: id)
        // The guard is due 2.5 s after the first receipt, before either Slack deadline.
        #expect(h.run(for: .milliseconds(1400)).acks.isEmpty)
        let guarded = h.run(for: .milliseconds(100))
        #expect(guarded.acks.map(\.1) == ["a", "b"])
        #expect(guarded.notices.contains(.ackGuardFired(token)))
    }

    @Test("a nack releases attached redeliveries unacked, and the next retry is delivered")
    func nackReleasesAttached() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let token = h.frame(Frames.event(id: "a", eventID: "Ev8"), on: ids[0]).deliveries[0].token
        _ = h.frame(Frames.event(id: "b", eventID: "Ev8", retry: 1), on: ids[1])
        _ = h.frame(Frames.event(id: "c", eventID: "Ev8", retry: 1), on: ids[0])
        #expect(h.pool.nack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.isEmpty)
        #expect(h.pool.metrics.redeliveriesReleased == 2)
        // Nothing is acked later either (no guard for released envelopes).
        #expect(h.serve(for: .seconds(4)).acks.isEmpty)
        let next = h.frame(Frames.event(id: "d", eventID: "Ev8", retry: 2), on: ids[1])
        #expect(next.deliveries.count == 1)
        #expect(h.pool.ack(next.deliveries[0].token, now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.1) == ["d"])
    }

    @Test("after an ack, a redelivery is acked at once and dropped")
    func redeliveryAfterAckIsDuplicate() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev10"), on: id).deliveries[0].token
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.1) == ["a"])
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev10", retry: 1), on: id)
        #expect(retry.deliveries.isEmpty)
        #expect(retry.acks.map(\.1) == ["b"])
        #expect(h.pool.metrics.duplicatesDropped == 1)
        #expect(h.pool.metrics.redeliveriesCoalesced == 0)
    }

    @Test("with the guard off, a late host ack still acks an attached redelivery within its own deadline")
    func lateAckCoversRedelivery() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackGuard = nil
        }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev11"), on: id).deliveries[0].token
        #expect(h.serve(for: .milliseconds(3200)).notices.contains(.ackDeadlineMissed(token)))
        // Slack's retry, just after the first deadline: attached, not delivered.
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev11", retry: 1), on: id)
        #expect(retry.deliveries.isEmpty && retry.acks.isEmpty)
        h.now = h.now + .milliseconds(800)  // 0.8 s into the retry's own 3 s
        #expect(h.pool.ack(token, now: h.now) == .late)
        #expect(h.drain().acks.map(\.1) == ["a", "b"])
    }

    @Test("redeliveries past the per-event bound are acked and dropped, and counted")
    func perEventBound() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxRedeliveriesPerEvent = 2
        }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "a", eventID: "Ev12"), on: id).deliveries[0].token
        #expect(h.frame(Frames.event(id: "b", eventID: "Ev12", retry: 1), on: id).acks.isEmpty)
        #expect(h.frame(Frames.event(id: "c", eventID: "Ev12", retry: 1), on: id).acks.isEmpty)
        let over = h.frame(Frames.event(id: "d", eventID: "Ev12", retry: 2), on: id)
        #expect(over.acks.map(\.1) == ["d"])
        #expect(over.deliveries.isEmpty)
        #expect(h.pool.metrics.redeliveriesOverflowed == 1)
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.1) == ["a", "b", "c"])
    }

    @Test("redeliveries past the total bound are acked and dropped; the room comes back when a first copy resolves")
    func totalBound() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.maxRedeliveriesHeld = 1
        }
        let id = h.startLive(1)[0]
        let first = h.frame(Frames.event(id: "a", eventID: "EvA"), on: id).deliveries[0].token
        _ = h.frame(Frames.event(id: "b", eventID: "EvB"), on: id)
        #expect(h.frame(Frames.event(id: "a2", eventID: "EvA", retry: 1), on: id).acks.isEmpty)
        #expect(h.frame(Frames.event(id: "b2", eventID: "EvB", retry: 1), on: id).acks.map(\.1) == ["b2"])
        #expect(h.pool.metrics.redeliveriesOverflowed == 1)
        #expect(h.pool.nack(first, now: h.now) == .accepted)
        #expect(h.frame(Frames.event(id: "b3", eventID: "EvB", retry: 2), on: id).acks.isEmpty)
        #expect(h.pool.metrics.redeliveriesCoalesced == 2)
    }
}
