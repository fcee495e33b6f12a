import SockeyeCore
import Testing

@Suite("Pool lifecycle")
struct PoolLifecycleTests {
    @Test("start asks for one URL at a time and opens the configured pool")
    func startOpensPool() {
        var probe = PoolHarness { $0.poolSize = 3 }
        let first = probe.handle(.start)
        #expect(first.urlRequests == 1)
        #expect(probe.pool.state == .connecting)
        // Single flight: nothing more is asked until the answer comes.
        #expect(probe.advance(.seconds(1)).urlRequests == 0)
        var h = PoolHarness { $0.poolSize = 3 }
        let ids = h.startLive(3)
        #expect(ids.count == 3)
        #expect(h.pool.state == .running(live: 3, target: 3))
    }

    @Test("every connection attempt uses a new URL, and an unrequested URL is ignored")
    func urlUsedOnce() {
        var h = PoolHarness { $0.poolSize = 2 }
        _ = h.startLive(2)
        #expect(h.urlCounter == 2)
        let stray = h.handle(.urlResponse(.url("wss://sim.invalid/link/?ticket=stray")))
        #expect(stray.connectedIDs.isEmpty)
    }

    @Test("hello makes a connection live and reports Slack's connection count")
    func helloMakesLive() {
        var h = PoolHarness { $0.poolSize = 1 }
        _ = h.handle(.start)
        let id = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(id))
        #expect(h.pool.state == .connecting)
        let actions = h.frame(Frames.hello(connections: 4), on: id)
        #expect(h.pool.state == .running(live: 1, target: 1))
        #expect(actions.notices.contains(.moreConnectionsThanOpen(id, slackCount: 4, open: 1)))
        #expect(h.pool.metrics.slackConnectionCount == 4)
    }

    @Test("warning opens the replacement before closing the old connection")
    func warningIsMakeBeforeBreak() {
        var h = PoolHarness { $0.poolSize = 1 }
        let old = h.startLive(1)[0]
        let afterWarning = h.frame(Frames.disconnect("warning"), on: old)
        #expect(afterWarning.urlRequests == 1)
        #expect(afterWarning.closed.isEmpty)
        let new = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(new))
        let afterHello = h.frame(Frames.hello(), on: new)
        // After a warning the old one stays until Slack closes it or asks for the refresh.
        #expect(afterHello.closed.isEmpty)
        let afterRefresh = h.frame(Frames.disconnect("refresh_requested"), on: old)
        #expect(afterRefresh.closed == [old])
        #expect(afterRefresh.urlRequests == 0)
    }

    @Test("refresh_requested opens the new connection before closing the old")
    func refreshRequestedIsMakeBeforeBreak() {
        var h = PoolHarness { $0.poolSize = 1 }
        let old = h.startLive(1)[0]
        let actions = h.frame(Frames.disconnect("refresh_requested"), on: old)
        #expect(actions.urlRequests == 1)
        #expect(actions.closed.isEmpty)
        let new = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(new))
        let afterHello = h.frame(Frames.hello(), on: new)
        #expect(afterHello.closed == [old])
        // Closing a retiring connection is not a loss: no backoff, no reconnect.
        let afterClose = h.handle(.closed(old, code: 1000))
        #expect(afterClose.urlRequests == 0)
        #expect(h.pool.metrics.connectionsLost == 0)
    }

    @Test("at the connection budget a refresh closes first, then reconnects")
    func refreshAtBudgetBreaksFirst() {
        var h = PoolHarness {
            $0.poolSize = 2
            $0.connectionBudget = 2
        }
        let ids = h.startLive(2)
        let actions = h.frame(Frames.disconnect("refresh_requested"), on: ids[0])
        #expect(actions.closed == [ids[0]])
        #expect(actions.urlRequests == 0)
        #expect(h.handle(.closed(ids[0], code: 1000)).urlRequests == 1)
    }

    @Test("a connection is replaced at 90 % of approximate_connection_time if no warning comes")
    func proactiveRefresh() {
        var h = PoolHarness { $0.poolSize = 1 }
        _ = h.handle(.start)
        let id = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(id))
        _ = h.frame(Frames.hello(lifetime: 360), on: id)
        var asked = 0
        for _ in 0..<40 {  // keep it alive with pongs while time passes
            let actions = h.advance(.seconds(9))
            for ping in actions.pings { h.pong(ping.text, on: id) }
            asked += actions.urlRequests
            if asked > 0 { break }
        }
        #expect(asked == 1)
        #expect(h.now - Instant(nanoseconds: 1_000_000_000_000) >= .seconds(324))
    }

    @Test("link_disabled is terminal: every connection closes and nothing reconnects")
    func linkDisabledIsTerminal() {
        var h = PoolHarness { $0.poolSize = 2 }
        let ids = h.startLive(2)
        let actions = h.frame(Frames.disconnect("link_disabled"), on: ids[0])
        #expect(Set(actions.closed) == Set(ids))
        #expect(h.pool.state == .failed(.linkDisabled))
        _ = h.handle(.closed(ids[0], code: 1000))
        _ = h.handle(.closed(ids[1], code: 1000))
        #expect(h.run(for: .seconds(3600)).urlRequests == 0)
    }

    @Test("link_disabled with a retry interval tries again after it")
    func linkDisabledRetry() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.linkDisabledRetry = .seconds(300)
        }
        let id = h.startLive(1)[0]
        _ = h.frame(Frames.disconnect("link_disabled"), on: id)
        _ = h.handle(.closed(id, code: 1000))
        #expect(h.run(for: .seconds(299)).urlRequests == 0)
        #expect(h.run(for: .seconds(2)).urlRequests == 1)
    }

    @Test("too_many_websockets shrinks the pool and waits at least half the long backoff")
    func tooManyWebsocketsBacksOff() {
        var h = PoolHarness { $0.poolSize = 3 }
        let ids = h.startLive(2)
        // The third connection is refused by Slack with too_many_websockets instead of hello.
        _ = h.run(for: .seconds(1))
        let third = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(third))
        let actions = h.frame(Frames.disconnect("too_many_websockets"), on: third)
        #expect(actions.closed == [third])
        #expect(h.pool.metrics.tooManyWebsockets == 1)
        guard case .tooManyWebsockets(_, let newTarget, let retryIn)? = actions.notices.last else {
            Issue.record("no too_many_websockets notice")
            return
        }
        #expect(newTarget == 2)
        #expect(retryIn >= .seconds(15) && retryIn <= .seconds(30))
        _ = h.handle(.closed(third, code: 1000))
        #expect(h.run(for: .seconds(14)).urlRequests == 0)
        #expect(h.pool.state == .running(live: 2, target: 2))
        // The pool grows back toward the configured size after the backoff.
        #expect(h.run(for: .seconds(20)).urlRequests == 1)
        _ = ids
    }

    @Test("fatal apps.connections.open errors stop retrying")
    func fatalOpenError() {
        var h = PoolHarness()
        _ = h.handle(.start)
        _ = h.handle(.urlResponse(.apiError("invalid_auth", retryAfter: nil)))
        #expect(h.pool.state == .failed(.fatalOpenError("invalid_auth")))
        #expect(h.run(for: .seconds(3600)).urlRequests == 0)
    }

    @Test("retryable errors back off with jitter under the cap, and Retry-After is a floor")
    func retryableOpenErrors() {
        var h = PoolHarness { $0.poolSize = 1 }
        _ = h.handle(.start)
        _ = h.handle(.urlResponse(.apiError("ratelimited", retryAfter: .seconds(30))))
        #expect(h.run(for: .seconds(29)).urlRequests == 0)
        #expect(h.run(for: .seconds(2)).urlRequests == 1)
        _ = h.handle(.urlResponse(.httpStatus(503, retryAfter: nil)))
        // Second failure: full jitter within 2 s.
        #expect(h.run(for: .seconds(2)).urlRequests == 1)
        _ = h.handle(.urlResponse(.transportFailure("connection refused")))
        #expect(h.run(for: .seconds(4)).urlRequests == 1)
        #expect(h.pool.metrics.urlFailures == 3)
    }

    @Test("backoff resets once a connection reaches hello")
    func backoffResetsAfterHello() {
        var h = PoolHarness { $0.poolSize = 1 }
        _ = h.handle(.start)
        for _ in 0..<6 {
            _ = h.handle(.urlResponse(.apiError("internal_error", retryAfter: nil)))
            _ = h.run(for: .seconds(130))
        }
        let id = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(id))
        _ = h.frame(Frames.hello(), on: id)
        // A loss now retries within the base delay (1 s), not the grown one.
        _ = h.handle(.closed(id, code: 1006))
        #expect(h.run(for: .seconds(1)).urlRequests == 1)
    }

    @Test("a connection that never says hello is aborted and replaced")
    func helloTimeout() {
        var h = PoolHarness { $0.poolSize = 1 }
        _ = h.handle(.start)
        let id = h.answerURL().connectedIDs[0]
        _ = h.handle(.opened(id))
        let actions = h.run(for: .seconds(10))
        #expect(actions.aborted == [id])
        #expect(actions.notices.contains(.connectionLost(id, reason: .helloTimeout)))
        _ = h.handle(.closed(id, code: nil))
        #expect(h.run(for: .seconds(2)).urlRequests == 1)
        #expect(h.pool.metrics.connectionsLost == 1)
    }

    @Test("a silent connection is declared dead after the silence timeout")
    func silenceWatchdog() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let actions = h.run(for: .seconds(30))
        #expect(actions.pings.count >= 2)
        #expect(actions.aborted == [id])
        #expect(actions.notices.contains(.connectionLost(id, reason: .silence)))
    }

    @Test("a connection whose pings go unanswered is dead even while Slack's pings keep arriving")
    func pongWatchdog() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        var aborted: [ConnectionID] = []
        var notices: [PoolNotice] = []
        for _ in 0..<8 {
            _ = h.handle(.pingReceived(id))  // the server still talks: silence never fires
            let actions = h.advance(.seconds(5))
            aborted += actions.aborted
            notices += actions.notices
        }
        #expect(aborted == [id])
        #expect(notices.contains(.connectionLost(id, reason: .pongTimeout)))
    }

    @Test("without a pong timeout, Slack's pings alone keep a connection alive")
    func pongWatchdogOff() {
        var h = PoolHarness { $0.poolSize = 1; $0.pongTimeout = nil }
        let id = h.startLive(1)[0]
        for _ in 0..<12 {
            _ = h.handle(.pingReceived(id))
            #expect(h.advance(.seconds(5)).aborted.isEmpty)
        }
    }

    @Test("matching pongs keep a connection alive; foreign or stale pongs do not")
    func pongMatching() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        for _ in 0..<10 {
            let actions = h.advance(.seconds(10))
            for ping in actions.pings { h.pong(ping.text, on: id) }
            #expect(actions.aborted.isEmpty)
        }
        #expect(h.pool.metrics.pongsMatched == 10)
        // Pongs that are not ours, or for pings never sent, are ignored.
        h.pong("sockeye:\(id.rawValue + 1):1", on: id)
        h.pong("sockeye:\(id.rawValue):999", on: id)
        h.pong("hello", on: id)
        #expect(h.pool.metrics.pongsMatched == 10)
        #expect(h.run(for: .seconds(30)).aborted == [id])
    }

    @Test("a close that is not answered in time becomes an abort")
    func closeTimeout() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        #expect(h.handle(.stop).closed == [id])
        #expect(h.pool.state == .stopping)
        #expect(h.run(for: .seconds(2)).aborted == [id])
        _ = h.handle(.closed(id, code: nil))
        #expect(h.pool.state == .stopped)
        #expect(h.run(for: .seconds(600)).urlRequests == 0)
    }

    @Test("a connection lost unexpectedly is replaced with a new URL")
    func lossReconnects() {
        var h = PoolHarness { $0.poolSize = 1 }
        let id = h.startLive(1)[0]
        let actions = h.handle(.closed(id, code: 1006))
        #expect(actions.notices.contains(.connectionLost(id, reason: .closedByPeer(1006))))
        #expect(h.pool.state == .connecting)
        #expect(h.run(for: .seconds(1)).urlRequests == 1)
        #expect(h.answerURL().connectURLs == ["wss://sim.invalid/link/?ticket=2"])
    }

    @Test("URL requests are rate limited after the burst")
    func urlRateLimit() {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.urlRequestBurst = 2
            $0.urlRequestRefill = .seconds(60)
        }
        _ = h.handle(.start)
        _ = h.handle(.urlResponse(.transportFailure("down")))
        #expect(h.run(for: .seconds(2)).urlRequests == 1)
        _ = h.handle(.urlResponse(.transportFailure("down")))
        // Bucket empty: the next token comes about a minute after the first request.
        #expect(h.run(for: .seconds(50)).urlRequests == 0)
        #expect(h.run(for: .seconds(15)).urlRequests == 1)
    }

    /// A pool of one whose URL budget a warning then a failed replacement spent.
    private func poolWithSpentBudget() -> (PoolHarness, ConnectionID) {
        var h = PoolHarness {
            $0.poolSize = 1
            $0.urlRequestBurst = 2
            $0.urlRequestRefill = .seconds(60)
        }
        let old = h.startLive(1)[0]
        // The warning's replacement takes the last token and fails.
        #expect(h.frame(Frames.disconnect("warning"), on: old).urlRequests == 1)
        _ = h.handle(.urlResponse(.transportFailure("down")))
        #expect(h.run(for: .seconds(5)).urlRequests == 0)
        return (h, old)
    }

    @Test("a refresh_requested that leaves the pool deaf is replaced past the spent URL budget, once")
    func refreshRescuePastBudget() {
        var (h, old) = poolWithSpentBudget()
        let afterRefresh = h.frame(Frames.disconnect("refresh_requested"), on: old)
        #expect(afterRefresh.urlRequests == 0)  // still live: waits for the budget
        // Slack closes it: nothing is live, so the replacement goes now, not in a minute.
        #expect(h.handle(.closed(old, code: 1000)).urlRequests == 1)
        // One rescue only: if that request fails, the budget rules again.
        _ = h.handle(.urlResponse(.transportFailure("down")))
        #expect(h.run(for: .seconds(30)).urlRequests == 0)
        #expect(h.run(for: .seconds(40)).urlRequests == 1)
    }

    @Test("an unplanned loss with the URL budget spent waits for the budget")
    func lossDoesNotBypassBudget() {
        var (h, old) = poolWithSpentBudget()
        #expect(h.handle(.closed(old, code: 1006)).urlRequests == 0)
        #expect(h.run(for: .seconds(30)).urlRequests == 0)
        #expect(h.run(for: .seconds(40)).urlRequests == 1)
    }
}
