import SockeyeInstallations
import Testing

/// The rotation schedule's decisions, without I/O.
@Suite("TokenRotation: the schedule of token refreshes")
struct TokenRotationTests {
    static let t0: Double = 1_700_000_000

    /// An installation of `team` whose bot token expires at `bot` and user token at `user`
    /// (nil: that token is absent), refresh tokens named after `generation`.
    static func install(_ team: String, bot: Int64?, user: Int64? = nil, generation: Int = 1, refreshable: Bool = true) -> Installation {
        Installation(appID: "A1", teamID: team,
                     bot: bot.map { BotCredentials(token: "xoxe.xoxb-1-\(team)-\(generation)", botID: "B\(team)", botUserID: "U\(team)",
                                                   scopes: ["chat:write"], refreshToken: refreshable ? "xoxe-1-b-\(team)-\(generation)" : nil,
                                                   expiresAt: $0) },
                     installerUserID: "U\(team)i",
                     user: user.map { UserCredentials(token: "xoxe.xoxp-1-\(team)-\(generation)", scopes: ["search:read"],
                                                      refreshToken: refreshable ? "xoxe-1-u-\(team)-\(generation)" : nil, expiresAt: $0) },
                     installedAt: Int64(t0))
    }

    static func schedule(ahead: Double = 7_200) -> TokenRotation {
        TokenRotation(policy: .init(refreshAheadSeconds: ahead))
    }

    @Test("an installation is due refreshAhead before its earliest expiry; the next due time is that moment")
    func dueByExpiry() {
        var rotation = Self.schedule()
        let expiry = Int64(Self.t0) + 43_200
        rotation.update([Self.install("T1", bot: expiry, user: expiry - 600), Self.install("T2", bot: expiry + 100)])
        #expect(rotation.count == 2)
        let firstDue = Double(expiry - 600) - 7_200
        #expect(rotation.nextDue() == firstDue)
        #expect(rotation.takeDue(now: firstDue - 1).isEmpty)
        #expect(rotation.takeDue(now: firstDue) == ["T1"])
        // Only the user token is due yet; both once the bot's time comes.
        #expect(rotation.kindsToRefresh(Self.install("T1", bot: expiry, user: expiry - 600), now: firstDue) == [.user])
        #expect(rotation.kindsToRefresh(Self.install("T1", bot: expiry, user: expiry - 600), now: Double(expiry)) == [.bot, .user])
        #expect(rotation.nextDue() == Double(expiry + 100) - 7_200)
    }

    @Test("tokens without a refresh token or without an expiry are never due by time")
    func notRefreshable() {
        var rotation = Self.schedule()
        rotation.update([Self.install("T1", bot: 0, refreshable: false), Self.install("T2", bot: nil, user: nil),
                         Self.install("T3", bot: nil, user: nil, refreshable: true)])
        #expect(rotation.count == 0)
        #expect(rotation.takeDue(now: Self.t0 + 1e9).isEmpty)
        #expect(rotation.nextDue() == nil)
        #expect(rotation.expired(id: "T1") == false)
    }

    @Test("never two in flight for one installation, however often it is asked for")
    func singleFlight() {
        var rotation = Self.schedule()
        rotation.update([Self.install("T1", bot: Int64(Self.t0))])
        #expect(rotation.takeDue(now: Self.t0) == ["T1"])
        #expect(rotation.isInFlight("T1"))
        for _ in 0..<5 {
            #expect(rotation.expired(id: "T1") == true)
            #expect(rotation.takeDue(now: Self.t0 + 100).isEmpty)
        }
        // Still in flight after the store is read again (even with new tokens).
        rotation.update([Self.install("T1", bot: Int64(Self.t0) - 50, generation: 2)])
        #expect(rotation.takeDue(now: Self.t0 + 100).isEmpty)
        #expect(rotation.nextDue() == nil)
        rotation.finish(id: "T1", outcome: .failed(reason: "HTTP 503", retryable: true), now: Self.t0 + 100, jitter: 1)
        #expect(!rotation.isInFlight("T1"))
        #expect(rotation.takeDue(now: Self.t0 + 130) == ["T1"])
        #expect(rotation.takeDue(now: Self.t0 + 130).isEmpty)
    }

    @Test("the back-off doubles from 30 s, caps at 15 min, is jittered down to half, and resets on success")
    func backoff() throws {
        var rotation = Self.schedule()
        rotation.update([Self.install("T1", bot: Int64(Self.t0))])
        var now = Self.t0
        var waits: [Double] = []
        for _ in 0..<8 {
            #expect(rotation.takeDue(now: now) == ["T1"])
            rotation.finish(id: "T1", outcome: .failed(reason: "HTTP 503", retryable: true), now: now, jitter: 1)
            let retryAt = try #require(rotation.retryAt(of: "T1"))
            waits.append(retryAt - now)
            #expect(rotation.takeDue(now: retryAt - 0.5).isEmpty)
            now = retryAt
        }
        #expect(waits == [30, 60, 120, 240, 480, 900, 900, 900])
        #expect(rotation.failures(of: "T1") == 8)
        #expect(rotation.failing == ["T1": "HTTP 503"])
        // Jitter: between half and all of the base, never more than the cap.
        #expect(rotation.backoff(failures: 1, retryable: true, jitter: 0) == 15)
        #expect(rotation.backoff(failures: 40, retryable: true, jitter: 0.5) == 675)
        #expect(rotation.backoff(failures: Int.max, retryable: true, jitter: .nan) == 900)
        #expect(rotation.backoff(failures: 1, retryable: true, jitter: 7) == 30)
        // Not retryable (invalid_refresh_token): the longest wait at once, still retried.
        #expect(rotation.backoff(failures: 1, retryable: false, jitter: 1) == 900)
        // Success resets.
        #expect(rotation.takeDue(now: now) == ["T1"])
        rotation.finish(id: "T1", outcome: .refreshed, now: now, jitter: 1,
                        current: Self.install("T1", bot: Int64(now) + 43_200, generation: 2))
        #expect(rotation.failures(of: "T1") == 0)
        #expect(rotation.failing.isEmpty)
        #expect(rotation.nextDue() == Double(Int64(now) + 43_200) - 7_200)
        rotation.update([Self.install("T1", bot: Int64(now) + 1, generation: 3)])
        #expect(rotation.takeDue(now: now) == ["T1"])
        rotation.finish(id: "T1", outcome: .failed(reason: "x", retryable: true), now: now, jitter: 1)
        #expect(rotation.retryAt(of: "T1") == now + 30)
    }

    @Test("token_expired makes an installation due at once, unless another process rotated it meanwhile")
    func expired() {
        var rotation = Self.schedule()
        let far = Int64(Self.t0) + 43_200
        rotation.update([Self.install("T1", bot: far, user: far)])
        #expect(rotation.takeDue(now: Self.t0).isEmpty)
        #expect(rotation.expired(id: "T9") == false)
        #expect(rotation.expired(id: "T1") == true)
        #expect(rotation.nextDue() == -.infinity)
        #expect(rotation.takeDue(now: Self.t0) == ["T1"])
        // The same refresh tokens in the store: both are refreshed.
        #expect(rotation.kindsToRefresh(Self.install("T1", bot: far, user: far), now: Self.t0) == [.bot, .user])
        // Another process rotated both: nothing to do.
        #expect(rotation.kindsToRefresh(Self.install("T1", bot: far + 10, user: far + 10, generation: 2), now: Self.t0).isEmpty)
        rotation.finish(id: "T1", outcome: .alreadyRotated, now: Self.t0, jitter: 1,
                        current: Self.install("T1", bot: far + 10, user: far + 10, generation: 2))
        #expect(rotation.kindsToRefresh(Self.install("T1", bot: far + 10, user: far + 10, generation: 2), now: Self.t0).isEmpty)
        // After a success, not again within the minimum interval, even when asked.
        #expect(rotation.expired(id: "T1") == true)
        #expect(rotation.takeDue(now: Self.t0 + 59).isEmpty)
        #expect(rotation.takeDue(now: Self.t0 + 60) == ["T1"])
    }

    @Test("token_expired during a back-off waits for it")
    func expiredDuringBackoff() {
        var rotation = Self.schedule()
        rotation.update([Self.install("T1", bot: Int64(Self.t0))])
        #expect(rotation.takeDue(now: Self.t0) == ["T1"])
        rotation.finish(id: "T1", outcome: .failed(reason: "invalid_refresh_token", retryable: false), now: Self.t0, jitter: 1)
        #expect(rotation.expired(id: "T1") == true)
        #expect(rotation.takeDue(now: Self.t0 + 899).isEmpty)
        #expect(rotation.takeDue(now: Self.t0 + 900) == ["T1"])
    }

    @Test("an installation revoked meanwhile is dropped, even while in flight; gone drops it too")
    func revokedMeanwhile() {
        var rotation = Self.schedule()
        rotation.update([Self.install("T1", bot: Int64(Self.t0)), Self.install("T2", bot: Int64(Self.t0))])
        #expect(rotation.takeDue(now: Self.t0) == ["T1", "T2"])
        rotation.update([Self.install("T2", bot: Int64(Self.t0))])  // T1 revoked by the CLI
        #expect(rotation.count == 1)
        rotation.finish(id: "T1", outcome: .refreshed, now: Self.t0, jitter: 1)
        #expect(!rotation.isInFlight("T1"))
        #expect(rotation.count == 1)
        #expect(rotation.expired(id: "T1") == false)
        rotation.finish(id: "T2", outcome: .gone, now: Self.t0, jitter: 1)
        #expect(rotation.count == 0)
        #expect(rotation.nextDue() == nil)
    }

    @Test("another node holding the lock: tried again after busyRetrySeconds, no failure counted")
    func busy() {
        var rotation = Self.schedule()
        rotation.update([Self.install("T1", bot: Int64(Self.t0))])
        #expect(rotation.takeDue(now: Self.t0) == ["T1"])
        rotation.finish(id: "T1", outcome: .busy, now: Self.t0, jitter: 0)
        #expect(rotation.failures(of: "T1") == 0)
        #expect(rotation.takeDue(now: Self.t0 + 29).isEmpty)
        #expect(rotation.takeDue(now: Self.t0 + 30) == ["T1"])
    }

    @Test("a failure after one token was refreshed keeps the new token and counts the failure")
    func partialFailure() {
        var rotation = Self.schedule()
        let soon = Int64(Self.t0)
        rotation.update([Self.install("T1", bot: soon, user: soon)])
        #expect(rotation.takeDue(now: Self.t0) == ["T1"])
        let bothDue = Self.install("T1", bot: soon, user: soon)
        #expect(rotation.kindsToRefresh(bothDue, now: Self.t0) == [.bot, .user])
        var halfway = bothDue
        halfway.bot = Self.install("T1", bot: soon + 43_200, generation: 2).bot
        rotation.finish(id: "T1", outcome: .failed(reason: "HTTP 502", retryable: true), now: Self.t0, jitter: 1, current: halfway)
        rotation.update([halfway])  // the store as read next pass: the failure stands
        #expect(rotation.failures(of: "T1") == 1)
        #expect(rotation.takeDue(now: Self.t0 + 29).isEmpty)
        #expect(rotation.takeDue(now: Self.t0 + 30) == ["T1"])
        #expect(rotation.kindsToRefresh(halfway, now: Self.t0 + 30) == [.user])
    }

    @Test("hostile expiries and settings cannot trap: Int64.max, Int64.min, negative, NaN")
    func hostile() {
        var rotation = TokenRotation(policy: .init(refreshAheadSeconds: .nan, firstBackoffSeconds: -5, maxBackoffSeconds: .infinity,
                                                   busyRetrySeconds: .nan, minimumIntervalSeconds: -1))
        rotation.update([Self.install("MAX", bot: Int64.max, user: Int64.max), Self.install("MIN", bot: Int64.min),
                         Self.install("NEG", bot: -1, user: Int64.max)])
        #expect(rotation.takeDue(now: Self.t0) == ["MIN", "NEG"])
        #expect(rotation.nextDue().map { $0 > 9e18 } == true)
        #expect(rotation.kindsToRefresh(Self.install("MAX", bot: Int64.max, user: Int64.max), now: .infinity) == [.bot, .user])
        #expect(rotation.kindsToRefresh(Self.install("MAX", bot: Int64.max), now: .nan).isEmpty)
        rotation.finish(id: "MIN", outcome: .failed(reason: "x", retryable: true), now: .nan, jitter: .infinity)
        rotation.finish(id: "NEG", outcome: .busy, now: Self.t0, jitter: -1)
        _ = rotation.nextDue()
        #expect(rotation.backoff(failures: Int.min, retryable: true, jitter: 0.5) == 0)

        var normal = Self.schedule(ahead: 60)
        normal.update([Self.install("MAX", bot: Int64.max), Self.install("MIN", bot: Int64.min)])
        #expect(normal.takeDue(now: -.infinity).isEmpty)
        #expect(normal.takeDue(now: .infinity) == ["MAX", "MIN"])
    }
}
