import SockeyeCore
import Testing

/// With a `refreshLinger`, a connection Slack retired is read and acked until Slack closes
/// it; Slack's close is echoed at once; an envelope Slack sends again under the same
/// `envelope_id` reaches the host once.
@Suite("Refreshed connections and envelope-id redeliveries")
struct PoolRefreshLingerTests {
    /// A pool of one with a 10 s `refreshLinger`, whose connection got `refresh_requested`
    /// and whose replacement is live.
    static func refreshedPool() -> (PoolHarness, old: ConnectionID, new: ConnectionID) {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.refreshLinger = .seconds(10)
        }
        let old = h.startLive(1)[0]
        _ = h.frame(Frames.disconnect("refresh_requested"), on: old)
        let new = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(new))
        #expect(h.frame(Frames.hello(), on: new).closed.isEmpty)
        return (h, old, new)
    }

    @Test("envelopes Slack still sends on a refreshed connection are delivered and acked on that connection")
    func refreshedConnectionStillAcks() {
        var (h, old, _) = Self.refreshedPool()
        let delivered = h.frame(Frames.event(id: "env-late", eventID: "EvLate"), on: old).deliveries
        #expect(delivered.count == 1)
        guard let token = delivered.first?.token else { return }
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.0) == [old])
    }

    @Test("a refreshed connection Slack closes in time is not closed by the pool, and nothing reconnects")
    func slackClosesWithinLinger() {
        var (h, old, _) = Self.refreshedPool()
        #expect(h.run(for: .seconds(2)).closed.isEmpty)
        let afterClose = h.handle(.closed(old, code: 1000))
        #expect(afterClose.urlRequests == 0)
        #expect(h.pool.metrics.connectionsLost == 0)
        #expect(h.run(for: h.pool.configuration.refreshLinger).closed.isEmpty)
    }

    @Test("a refreshed connection Slack never closes is closed once the linger runs out")
    func lingerIsBounded() {
        var (h, old, _) = Self.refreshedPool()
        let early = h.run(for: h.pool.configuration.refreshLinger - .milliseconds(1))
        #expect(early.closed.isEmpty)
        #expect(h.run(for: .milliseconds(2)).closed == [old])
    }

    @Test("a proactive refresh (the pool's own) still closes the old connection once replaced, linger or not")
    func proactiveClosesAtOnce() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.refreshLinger = .seconds(10)
        }
        _ = h.handle(.start)
        let old = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(old))
        _ = h.frame(Frames.hello(lifetime: 360), on: old)
        var newID: ConnectionID?
        for _ in 0..<40 where newID == nil {
            let actions = h.advance(.seconds(9))
            for ping in actions.pings { h.pong(ping.text, on: old) }
            if actions.urlRequests > 0 { newID = h.answerURL().connectedIDs.first }
        }
        guard let newID else {
            Issue.record("no proactive refresh")
            return
        }
        _ = h.handle(.opened(newID))
        #expect(h.frame(Frames.hello(), on: newID).closed == [old])
    }

    @Test("Slack's close of a refreshed connection is echoed at once, and an ack owed on it goes out on another connection")
    func closeEchoMovesOwedAcks() {
        var (h, old, new) = Self.refreshedPool()
        let delivered = h.frame(Frames.event(id: "env-last", eventID: "EvLast"), on: old).deliveries
        let peer = h.handle(.peerClosing(old, code: 1000))
        #expect(peer.contains { if case .close(old, 1000) = $0 { return true } else { return false } })
        guard let token = delivered.first?.token else { return }
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        #expect(h.drain().acks.map(\.0) == [new])
        _ = h.handle(.closed(old, code: 1000))
        #expect(h.pool.metrics.connectionsLost == 0)
    }

    @Test("an unexpected close from Slack is a loss and is echoed at once, with Slack's code")
    func unexpectedPeerCloseIsLoss() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.event(id: "env-1", eventID: "Ev1"), on: id)
        let actions = h.handle(.peerClosing(id, code: 1011))
        #expect(actions.contains { if case .close(id, 1011) = $0 { return true } else { return false } })
        #expect(h.pool.metrics.connectionsLost == 1)
        _ = h.handle(.closed(id, code: 1011))
        #expect(h.pool.metrics.connectionsLost == 1)  // not counted twice
    }

    @Test("a slash command redelivered under the same envelope_id while the host holds it is not delivered again, and is acked with it")
    func slashRedeliveryWhileHeld() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let first = h.frame(Frames.slash(id: "env-slash-1"), on: ids[0]).deliveries
        #expect(first.count == 1)
        let again = h.frame(Frames.slash(id: "env-slash-1"), on: ids[1])
        #expect(again.deliveries.isEmpty)
        #expect(again.acks.isEmpty)  // not before the host took the first copy
        guard let token = first.first?.token else { return }
        let payload = Array(#"{"text":"done"}"#.utf8)
        let outcome = payload.withUnsafeBytes { h.pool.ack(token, payload: $0, now: h.now) }
        #expect(outcome == .accepted)
        let acks = h.drain().acks
        #expect(acks.map(\.1) == ["env-slash-1", "env-slash-1"])
        #expect(acks.allSatisfy { $0.2 == payload })
    }

    @Test("an interaction redelivered under the same envelope_id after it was acked is acked and dropped")
    func interactionRedeliveryAfterAck() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let frame = #"{"envelope_id":"env-int-1","type":"interactive","accepts_response_payload":false,"payload":{"type":"block_actions","team":{"id":"T111"}}}"#
        let first = h.frame(frame, on: id).deliveries
        #expect(first.count == 1)
        guard let token = first.first?.token else { return }
        #expect(h.pool.ack(token, now: h.now) == .accepted)
        _ = h.drain()
        let again = h.frame(frame, on: id)
        #expect(again.deliveries.isEmpty)
        #expect(again.acks.map(\.1) == ["env-int-1"])
        #expect(h.pool.metrics.duplicatesDropped == 1)
    }

    @Test("two different slash commands are both delivered")
    func distinctEnvelopesBothDelivered() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        #expect(h.frame(Frames.slash(id: "env-a"), on: id).deliveries.count == 1)
        #expect(h.frame(Frames.slash(id: "env-b"), on: id).deliveries.count == 1)
    }
}
