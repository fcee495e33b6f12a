import SockeyeCore
import Testing

@Suite("Pool acknowledgements and de-duplication")
struct PoolAckTests {
    @Test("an envelope is delivered and acked on its arrival connection")
    func ackOnArrivalConnection() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let actions = h.frame(Frames.event(id: "env-1"), on: ids[1])
        let delivery = actions.deliveries[0]
        #expect(delivery.connection == ids[1])
        #expect(delivery.envelope.kind == .eventsAPI)
        #expect(actions.acks.isEmpty)
        #expect(h.pool.ack(delivery.token, now: h.now) == .accepted)
        let acks = h.drain().acks
        #expect(acks.count == 1 && acks[0].0 == ids[1] && acks[0].1 == "env-1" && acks[0].2 == nil)
        #expect(h.pool.ack(delivery.token, now: h.now) == .alreadyAcked)
        #expect(h.pool.ack(DeliveryToken(rawValue: 999), now: h.now) == .unknown)
    }

    @Test("acks the transport could not write before their connection ended go out on another live connection")
    func unwrittenAcksAreResent() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let delivery = h.frame(Frames.event(id: "env-1"), on: ids[0]).deliveries[0]
        #expect(h.pool.ack(delivery.token, now: h.now) == .accepted)
        let sent = h.drain().acks
        #expect(sent.count == 1 && sent[0].0 == ids[0])
        // The connection ends before the transport wrote that ack.
        _ = h.handle(.closed(ids[0], code: nil))
        h.pool.resendUnwritten([AckMessage(envelopeID: EnvelopeID("env-1"), payload: nil)], from: ids[0], now: h.now)
        let resent = h.drain().acks
        #expect(resent.count == 1 && resent[0].0 == ids[1] && resent[0].1 == "env-1")
        #expect(h.pool.metrics.acksResent == 1)
    }

    @Test("on-receipt mode acks before the host sees the envelope")
    func onReceipt() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackMode = .onReceipt
        }
        let id = h.startLive(1)[0]
        let actions = h.frame(Frames.event(id: "env-2"), on: id)
        let ackIndex = actions.firstIndex { if case .sendAck = $0 { true } else { false } }
        let deliverIndex = actions.firstIndex { if case .deliver = $0 { true } else { false } }
        #expect(ackIndex != nil && deliverIndex != nil && ackIndex! < deliverIndex!)
        #expect(h.pool.ack(actions.deliveries[0].token, now: h.now) == .alreadyAcked)
    }

    @Test("the ack guard acks empty before Slack's deadline when the host is slow")
    func ackGuard() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "env-3"), on: id).deliveries[0].token
        #expect(h.run(for: .milliseconds(2400)).acks.isEmpty)
        let guarded = h.run(for: .milliseconds(200))
        #expect(guarded.acks.map(\.1) == ["env-3"])
        #expect(guarded.notices.contains(.ackGuardFired(token)))
        #expect(h.pool.ack(token, now: h.now) == .alreadyAcked)
        #expect(h.pool.metrics.ackGuardFired == 1)
    }

    @Test("without the guard a late ack is still sent and reported late")
    func lateAck() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackGuard = nil
        }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "env-4"), on: id).deliveries[0].token
        let missed = h.run(for: .seconds(4))
        #expect(missed.notices.contains(.ackDeadlineMissed(token)))
        #expect(h.pool.ack(token, now: h.now) == .late)
        #expect(h.drain().acks.map(\.1) == ["env-4"])
    }

    @Test("a redelivered event is acked and not delivered twice")
    func dedupDropsRedelivery() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let first = h.frame(Frames.event(id: "a", eventID: "Ev9"), on: ids[0])
        #expect(first.deliveries.count == 1)
        // Acked first: a redelivery is a mere duplicate (before the first is acked it
        // waits for it, see PoolRedeliveryTests).
        #expect(h.pool.ack(first.deliveries[0].token, now: h.now) == .accepted)
        _ = h.drain()
        let retry = h.frame(Frames.event(id: "b", eventID: "Ev9", retry: 1), on: ids[1])
        #expect(retry.deliveries.isEmpty)
        #expect(retry.acks.map(\.1) == ["b"])
        #expect(h.pool.metrics.duplicatesDropped == 1)
        // Same event id in another workspace is a different event.
        #expect(h.frame(Frames.event(id: "c", eventID: "Ev9", team: "T222"), on: ids[0]).deliveries.count == 1)
    }

    @Test("an event never acked is delivered again when Slack retries it after the late-ack window")
    func unackedEventRedelivered() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.ackGuard = nil
        }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "a", eventID: "Ev7"), on: id)
        _ = h.serve(for: .seconds(5))
        // The host may still ack late: the first retry waits for it, unacked.
        let early = h.frame(Frames.event(id: "b", eventID: "Ev7", retry: 1), on: id)
        #expect(early.deliveries.isEmpty && early.acks.isEmpty)
        // It never did: after the late window (60 s) the next retry reaches the host.
        _ = h.serve(for: .seconds(60))
        #expect(h.pool.metrics.redeliveriesReleased == 1)
        #expect(h.frame(Frames.event(id: "c", eventID: "Ev7", retry: 2), on: id).deliveries.count == 1)
    }

    @Test("an ack whose connection closed goes out on another live connection")
    func ackRerouted() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let token = h.frame(Frames.event(id: "env-5"), on: ids[0]).deliveries[0].token
        _ = h.handle(.closed(ids[0], code: 1006))
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.0) == [ids[1]])
    }

    @Test("an ack with no live connection is queued and sent after the next hello")
    func ackQueued() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.event(id: "env-6"), on: id).deliveries[0].token
        _ = h.handle(.closed(id, code: 1006))
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.isEmpty)
        _ = h.run(for: .seconds(1))
        let new = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(new))
        #expect(h.frame(Frames.hello(), on: new).acks.map(\.1) == ["env-6"])
    }

    @Test("an ack with a response payload carries it; an oversized one is rejected and can be retried")
    func ackPayloads() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let token = h.frame(Frames.slash(id: "env-7"), on: id).deliveries[0].token
        let huge = "{\"text\":\"" + String(repeating: "x", count: 20_480) + "\"}"
        let rejected = Array(huge.utf8).withUnsafeBytes { h.pool.ack(token, payload: $0, now: h.now) }
        guard case .rejected(.tooLarge) = rejected else {
            Issue.record("expected tooLarge, got \(rejected)")
            return
        }
        let invalid = Array("{\"text\":".utf8).withUnsafeBytes { h.pool.ack(token, payload: $0, now: h.now) }
        guard case .rejected(.invalidPayload) = invalid else {
            Issue.record("expected invalidPayload, got \(invalid)")
            return
        }
        let body = #"{"text":"deployed","response_type":"in_channel"}"#
        let accepted = Array(body.utf8).withUnsafeBytes { h.pool.ack(token, payload: $0, now: h.now) }
        #expect(accepted == .accepted)
        let acks = h.drain().acks
        #expect(acks.count == 1 && acks[0].2 == Array(body.utf8))
    }

    @Test("malformed frames are counted and reported, and the connection keeps working")
    func malformedFrame() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let actions = h.frame("{\"type\":\"events_api\",", on: id)
        #expect(actions.notices.contains(.malformedFrame(id, ScanError(.unexpectedEnd, at: 21))))
        #expect(h.pool.metrics.malformedFrames == 1)
        #expect(h.frame(Frames.event(id: "ok"), on: id).deliveries.count == 1)
    }
}

@Suite("Backoff, rate limits and the dedup window")
struct TimingPrimitiveTests {
    @Test("full jitter stays within the doubling ceiling and the cap")
    func fullJitter() {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(8))
        var random = SplitMix64(seed: 7)
        for attempt in 0..<10 {
            let ceiling = Duration.seconds(min(8, 1 << attempt))
            let delay = backoff.nextDelay(using: &random)
            #expect(delay >= .zero && delay <= ceiling)
        }
    }

    @Test("equal jitter never goes below half the ceiling; Retry-After is a floor")
    func equalJitter() {
        var backoff = Backoff(base: .seconds(30), cap: .seconds(600), jitter: .equal)
        var random = SplitMix64(seed: 9)
        let first = backoff.nextDelay(using: &random)
        #expect(first >= .seconds(15) && first <= .seconds(30))
        #expect(backoff.nextDelay(retryAfter: .seconds(500), using: &random) == .seconds(500))
        backoff.reset()
        #expect(backoff.ceiling == .seconds(30))
    }

    @Test("dedup entries expire after the TTL and memory stays bounded")
    func dedupWindow() {
        var window = DedupWindow(ttl: .seconds(60), capacity: 3)
        let t0 = Instant(nanoseconds: 0)
        let key = DedupWindow.Key(teamID: "T1", eventID: "Ev1")
        let first = window.insert(key, now: t0)
        let again = window.insert(key, now: t0 + .seconds(59))
        let afterTTL = window.insert(key, now: t0 + .seconds(61))
        #expect(first)
        #expect(!again)
        #expect(afterTTL)
        for i in 0..<10 { _ = window.insert(DedupWindow.Key(teamID: "T1", eventID: "E\(i)"), now: t0 + .seconds(62)) }
        #expect(window.count == 3)
        #expect(window.evictedEarly == 8)
        #expect(DedupWindow.Key(teamID: "T1", eventID: "Ev1") != DedupWindow.Key(teamID: "T1E", eventID: "v1"))
    }
}
