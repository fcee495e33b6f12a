import Foundation
import Sockeye
@testable import SockeyeDaemon
import SockeyeInstallations
import SockeyeSim
import SockeyeSinkKit
import Synchronization
import Testing

/// An in-memory `InstallationLock` shared by several `AppInstallations` (two nodes on one
/// store file): a key is held by one taker at a time; takes and refusals are counted.
final class FakeInstallationLock: InstallationLock {
    private let state = Mutex<(held: Set<String>, acquired: Int, refused: Int)>(([], 0, 0))

    func acquire(_ key: String, leaseSeconds: Double) async -> Bool {
        state.withLock { state in
            guard !state.held.contains(key) else {
                state.refused += 1
                return false
            }
            state.held.insert(key)
            state.acquired += 1
            return true
        }
    }

    func release(_ key: String) async { _ = state.withLock { $0.held.remove(key) } }

    var counts: (acquired: Int, refused: Int, held: Int) { state.withLock { ($0.acquired, $0.refused, $0.held.count) } }
}

/// Token rotation in the daemon against the simulator's OAuth side: real `oauth.v2.access`
/// refresh grants, single-use refresh tokens, a real store file. Time is moved ahead on the
/// rotation's clock (tokens last two hours on both sides) instead of waited for.
@Suite("TokenRotation in the daemon, against the simulator", .serialized)
struct TokenRotationDaemonTests {
    static let lifetime = 7_200
    static let redirect = "http://127.0.0.1:9/slack/oauth_redirect"

    /// A simulator whose first app rotates tokens every `lifetime` seconds.
    func sim(lifetime: Int = Self.lifetime) throws -> SimServer {
        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.config.apps[0].oauth?.tokenLifetimeSeconds = lifetime
        return try SimServer(options)
    }

    /// An app installed by OAuth with the simulator's client, its store at `store`.
    func app(_ sim: SimServer, store: String, name: String, apiURL: String? = nil, userScopes: [String] = []) -> AppSettings {
        var app = AppSettings(name: name, appToken: SimConfig().apps[0].appTokens[0], apiURL: apiURL ?? sim.apiBaseURL)
        var oauth = OAuthSettings(clientID: "1111.2222", clientSecret: "simclientsecret", scopes: ["chat:write", "commands"],
                                  userScopes: userScopes, redirectURL: Self.redirect, storePath: store)
        oauth.acceptsInstallsWithoutState = true
        oauth.refreshAheadSeconds = 60  // the configuration's minimum
        app.oauth = oauth
        return app
    }

    /// Installs into `workspace` through the daemon's own redirect handling: the consent is
    /// given on the simulator's authorize page, the code comes back in the redirect.
    func install(_ installations: AppInstallations, _ sim: SimServer, runtime: SocketModeRuntime, workspace: String = "T0SIM0002",
                 userScope: String? = nil) async throws -> Installation {
        var items = [("client_id", "1111.2222"), ("scope", "chat:write,commands"), ("redirect_uri", Self.redirect)]
        if let userScope { items.append(("user_scope", userScope)) }
        let authorizeBase = String(sim.oauthAuthorizeURL.dropLast("authorize".count))
        let consent = try await runtime.callWebAPI(method: "authorize", token: "none", apiBaseURL: authorizeBase,
                                                   arguments: items + [("workspace", workspace), ("decision", "approve")], environment: [:])
        #expect(consent.status == 302)
        let location = try #require(consent.headers.first { $0.hasName("Location") }?.value)
        let query = String(try #require(location.split(separator: "?", maxSplits: 1).last))
        let page = await installations.completeInstall(query: query, cookieHeader: nil)
        #expect(page.status == 200, "\(page.html)")
        return try #require(try installations.store.installation(id: workspace))
    }

    /// `oauth.v2.access` with a refresh token, as another program would (the answer unread).
    func exchangeElsewhere(_ refreshToken: String, sim: SimServer, runtime: SocketModeRuntime) async throws -> [String: Any] {
        let response = try await runtime.callWebAPI(method: "oauth.v2.access", clientID: "1111.2222", clientSecret: "simclientsecret",
                                                    apiBaseURL: sim.apiBaseURL,
                                                    arguments: [("grant_type", "refresh_token"), ("refresh_token", refreshToken)],
                                                    environment: [:])
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    /// `auth.test`'s error with `token`, or `ok`.
    func authTest(_ token: String, sim: SimServer, runtime: SocketModeRuntime) async throws -> String {
        let response = try await runtime.callWebAPI(method: "auth.test", token: token, apiBaseURL: sim.apiBaseURL, environment: [:])
        let object = try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] ?? [:]
        return object["ok"] as? Bool == true ? "ok" : object["error"] as? String ?? "?"
    }

    func refreshCalls(_ sim: SimServer) -> Int { sim.oauthReport().clients.first?.accessCalls["refresh_token"] ?? 0 }
    func invalidRefreshTokens(_ sim: SimServer) -> Int { sim.oauthReport().clients.first?.invalidRefreshToken ?? 0 }

    /// The rotation's loop, run until cancelled (as `AppRunner.run` runs it).
    func startLoop(_ installations: AppInstallations) -> Task<Void, Never> {
        Task { await installations.runRotation() }
    }

    /// Whether the schedule knows installations, none in flight, and has nothing due within
    /// the next hour (it knows the new tokens).
    func settled(_ installations: AppInstallations) -> Bool {
        let now = installations.rotator.now()
        return installations.rotator.schedule.withLock { schedule in
            guard let next = schedule.nextDue() else { return false }
            return !schedule.isInFlight("T0SIM0002") && next > now + 3_600
        }
    }

    /// The metric's value in `/metrics` text, or 0.
    func metric(_ app: String, outcome: String) -> Int {
        let line = sharedMetrics.text().split(separator: "\n").first {
            $0.hasPrefix("sockeyed_token_refreshes_total{") && $0.contains("app=\"\(app)\"") && $0.contains("outcome=\"\(outcome)\"")
        }
        return line.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) }.map { Int($0) } ?? 0
    }

    @Test("a token near its expiry is refreshed once: the store holds the new pair, the old refresh token is spent, the new token works")
    func refreshesOnce() async throws {
        _ = sharedMetrics
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let folder = temporaryDirectory()
        let installations = try AppInstallations(app: app(sim, store: folder + "/installations.db", name: "rotation-once"),
                                                 runtime: runtime, logger: quietLogger, environment: [:])
        let installed = try await install(installations, sim, runtime: runtime)
        let oldBot = try #require(installed.bot)
        let oldRefresh = try #require(oldBot.refreshToken)
        #expect(oldBot.token.hasPrefix("xoxe.xoxb-1-") && oldRefresh.hasPrefix("xoxe-1-"))
        let expiresAt = try #require(oldBot.expiresAt)

        let loop = startLoop(installations)
        // The first pass schedules it refresh_ahead before its expiry, and does not refresh yet.
        #expect(await eventually { installations.rotator.schedule.withLock { $0.count } == 1 })
        #expect(installations.rotator.schedule.withLock { $0.nextDue() } == Double(expiresAt) - 60)
        #expect(refreshCalls(sim) == 0)

        // An hour and 59 minutes later (on the rotation's clock): due.
        installations.rotator.advanceClock(by: Double(Self.lifetime) - 59)
        #expect(await eventually { refreshCalls(sim) == 1 })
        #expect(await eventually { settled(installations) })
        let stored = try #require(try installations.store.installation(id: installed.id))
        let newBot = try #require(stored.bot)
        #expect(newBot.token != oldBot.token && newBot.token.hasPrefix("xoxe.xoxb-1-"))
        #expect(newBot.refreshToken != nil && newBot.refreshToken != oldRefresh)
        #expect((newBot.expiresAt ?? 0) > expiresAt + Int64(Self.lifetime) - 120)
        #expect(newBot.botID == oldBot.botID && newBot.botUserID == oldBot.botUserID && newBot.scopes == oldBot.scopes)
        #expect(try await authTest(newBot.token, sim: sim, runtime: runtime) == "ok")
        #expect(refreshCalls(sim) == 1)
        #expect(invalidRefreshTokens(sim) == 0)
        #expect(metric("rotation-once", outcome: "refreshed") == 1)
        #expect(installations.directory.isActive(installed.id))
        #expect(installations.snapshots().first?.note == nil)

        loop.cancel()
        await loop.value
        // The old refresh token is spent at Slack, and gone from the file.
        #expect(try await exchangeElsewhere(oldRefresh, sim: sim, runtime: runtime)["error"] as? String == "invalid_refresh_token")
        installations.store.close()
        for file in ["/installations.db", "/installations.db-wal"] {
            let bytes = (try? Data(contentsOf: URL(fileURLWithPath: folder + file))) ?? Data()
            #expect(bytes.range(of: Data(oldRefresh.utf8)) == nil, "\(file) still holds the old refresh token")
            #expect(bytes.range(of: Data(oldBot.token.utf8)) == nil, "\(file) still holds the old bot token")
        }
    }

    @Test("two nodes on one store file with a shared lock: exactly one refresh call reaches Slack")
    func twoNodesOneRefresh() async throws {
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let store = temporaryDirectory() + "/installations.db"
        let lock = FakeInstallationLock()
        let first = try AppInstallations(app: app(sim, store: store, name: "rotation-pair"), runtime: runtime, logger: quietLogger,
                                         environment: [:], installationLock: lock)
        let second = try AppInstallations(app: app(sim, store: store, name: "rotation-pair"), runtime: runtime, logger: quietLogger,
                                          environment: [:], installationLock: lock)
        let installed = try await install(first, sim, runtime: runtime)
        for node in [first, second] { node.rotator.schedule.withLock { $0.policy.busyRetrySeconds = 0.05 } }
        let loops = [startLoop(first), startLoop(second)]
        #expect(await eventually { [first, second].allSatisfy { node in node.rotator.schedule.withLock { $0.count } == 1 } })
        // Both nodes find it due at the same moment.
        for node in [first, second] { node.rotator.advanceClock(by: Double(Self.lifetime) - 59) }
        #expect(await eventually { settled(first) && settled(second) })
        #expect(refreshCalls(sim) == 1)
        #expect(invalidRefreshTokens(sim) == 0)
        #expect(lock.counts.acquired >= 1 && lock.counts.held == 0, "\(lock.counts)")
        let stored = try #require(try second.store.installation(id: installed.id))
        #expect(stored.bot?.refreshToken != installed.bot?.refreshToken)
        #expect(try await authTest(try #require(stored.bot?.token), sim: sim, runtime: runtime) == "ok")
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
    }

    @Test("two nodes without a lock: a loser's invalid_refresh_token finds the winner's tokens in the store and keeps them")
    func twoNodesWithoutLock() async throws {
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let store = temporaryDirectory() + "/installations.db"
        let first = try AppInstallations(app: app(sim, store: store, name: "rotation-nolock"), runtime: runtime, logger: quietLogger,
                                         environment: [:])
        let second = try AppInstallations(app: app(sim, store: store, name: "rotation-nolock"), runtime: runtime, logger: quietLogger,
                                          environment: [:])
        let installed = try await install(first, sim, runtime: runtime)
        let loops = [startLoop(first), startLoop(second)]
        #expect(await eventually { [first, second].allSatisfy { node in node.rotator.schedule.withLock { $0.count } == 1 } })
        for node in [first, second] { node.rotator.advanceClock(by: Double(Self.lifetime) - 59) }
        #expect(await eventually { settled(first) && settled(second) })
        // One call, or two when both read the store before either stored (the usual case).
        let calls = refreshCalls(sim)
        #expect((1...2).contains(calls))
        #expect(invalidRefreshTokens(sim) == calls - 1)
        for node in [first, second] {
            #expect(node.rotator.schedule.withLock { $0.failing }.isEmpty)
            #expect(node.snapshots().first?.note == nil)
        }
        let stored = try #require(try first.store.installation(id: installed.id))
        #expect(stored.bot?.refreshToken != installed.bot?.refreshToken)
        #expect(try await authTest(try #require(stored.bot?.token), sim: sim, runtime: runtime) == "ok")
        for loop in loops { loop.cancel() }
        for loop in loops { await loop.value }
    }

    @Test("token_expired on a call refreshes at once, both the bot's and the user's token, once however many tasks report it")
    func expiredRefreshesAtOnce() async throws {
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let installations = try AppInstallations(app: app(sim, store: temporaryDirectory() + "/installations.db", name: "rotation-expired",
                                                          userScopes: ["search:read"]),
                                                 runtime: runtime, logger: quietLogger, environment: [:])
        let installed = try await install(installations, sim, runtime: runtime, userScope: "search:read")
        #expect(installed.user?.refreshToken != nil)
        let loop = startLoop(installations)
        #expect(await eventually { installations.rotator.schedule.withLock { $0.count } == 1 })
        #expect(refreshCalls(sim) == 0)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { _ = installations.tokenFailed(installed.id, code: "token_expired") } }
        }
        #expect(await eventually { refreshCalls(sim) == 2 })
        #expect(await eventually {
            let stored = try? installations.store.installation(id: installed.id)
            return stored?.bot?.refreshToken != installed.bot?.refreshToken && stored?.user?.refreshToken != installed.user?.refreshToken
        })
        // Reported again right after: not refreshed again (one minute at least between two).
        _ = installations.tokenFailed(installed.id, code: "token_expired")
        try await Task.sleep(for: .milliseconds(300))
        #expect(refreshCalls(sim) == 2)
        #expect(invalidRefreshTokens(sim) == 0)
        let stored = try #require(try installations.store.installation(id: installed.id))
        #expect(try await authTest(try #require(stored.bot?.token), sim: sim, runtime: runtime) == "ok")
        #expect(try await authTest(try #require(stored.user?.token), sim: sim, runtime: runtime) == "ok")
        loop.cancel()
        await loop.value
    }

    @Test("a refresh token spent elsewhere: invalid_refresh_token is reported, retried with back-off, never revoked")
    func refusedIsRetried() async throws {
        _ = sharedMetrics
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let installations = try AppInstallations(app: app(sim, store: temporaryDirectory() + "/installations.db", name: "rotation-refused"),
                                                 runtime: runtime, logger: quietLogger, environment: [:])
        let installed = try await install(installations, sim, runtime: runtime)
        // Another program exchanges the refresh token and never stores what it got.
        #expect(try await exchangeElsewhere(try #require(installed.bot?.refreshToken), sim: sim, runtime: runtime)["ok"] as? Bool == true)
        installations.rotator.schedule.withLock { $0.policy.maxBackoffSeconds = 0.4 }
        let loop = startLoop(installations)
        let started = ContinuousClock.now
        installations.rotator.advanceClock(by: Double(Self.lifetime) - 59)
        #expect(await eventually { invalidRefreshTokens(sim) >= 2 })
        let elapsed = ContinuousClock.now - started
        // Between two attempts: the second look at the store (1 s), then a wait of 0.2 … 0.4 s.
        #expect(elapsed >= .milliseconds(1_200), "\(elapsed)")
        #expect(await eventually { installations.rotator.schedule.withLock { $0.failures(of: installed.id) } >= 2 })
        #expect(installations.snapshots().first?.note == "token refresh failed: invalid_refresh_token")
        #expect(installations.directory.isActive(installed.id))
        #expect(try installations.store.installation(id: installed.id)?.bot?.refreshToken == installed.bot?.refreshToken)
        #expect(metric("rotation-refused", outcome: "failed") >= 2)
        loop.cancel()
        await loop.value
        #expect(installations.snapshots().first?.state == "active")
    }

    @Test("Slack unreachable: the refresh fails as retryable, the wait doubles, the installation stays")
    func unreachable() async throws {
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let sim = try sim()
        defer { sim.stop() }
        // Port 1 refuses at once.
        let installations = try AppInstallations(app: app(sim, store: temporaryDirectory() + "/installations.db", name: "rotation-down",
                                                          apiURL: "http://127.0.0.1:1/api/"),
                                                 runtime: runtime, logger: quietLogger, environment: [:])
        let now = Int64(Date().timeIntervalSince1970)
        let installation = Installation(appID: "A0SIMAPP01", teamID: "T0DOWN", teamName: "Down",
                                        bot: BotCredentials(token: "xoxe.xoxb-1-down", botID: "B1", botUserID: "U1", scopes: ["chat:write"],
                                                            refreshToken: "xoxe-1-down", expiresAt: now + 30),
                                        installerUserID: "U2", installedAt: now)
        try installations.store.save(installation)
        installations.rotator.schedule.withLock { $0.policy.firstBackoffSeconds = 0.1 }
        let loop = startLoop(installations)
        #expect(await eventually { installations.rotator.schedule.withLock { $0.failures(of: "T0DOWN") } >= 3 })
        let (failures, wait) = installations.rotator.schedule.withLock { schedule in
            (schedule.failures(of: "T0DOWN"), (schedule.retryAt(of: "T0DOWN") ?? 0) - installations.rotator.now())
        }
        // The wait after the n-th failure is 0.1 × 2^(n-1), jittered to between half and all of it.
        #expect(wait <= 0.1 * Double(1 << (failures - 1)) + 0.05, "\(failures) failures, \(wait) s")
        #expect(installations.snapshots().first?.note?.hasPrefix("token refresh failed: oauth.v2.access") == true)
        #expect(installations.directory.isActive("T0DOWN"))
        loop.cancel()
        await loop.value
    }

    @Test("each pass reads the store again: an installation revoked by another process leaves the directory and the schedule")
    func seesOtherProcesses() async throws {
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let path = temporaryDirectory() + "/installations.db"
        let installations = try AppInstallations(app: app(sim, store: path, name: "rotation-reread"), runtime: runtime, logger: quietLogger,
                                                 environment: [:])
        let installed = try await install(installations, sim, runtime: runtime)
        let loop = startLoop(installations)
        #expect(await eventually { installations.rotator.schedule.withLock { $0.count } == 1 })
        // The CLI, another process, revokes it.
        let cli = try InstallationStore(path: path, clientID: "1111.2222")
        #expect(try cli.revoke(id: installed.id, reason: "revoked by operator"))
        cli.close()
        installations.rotator.wakeup.signal()  // instead of waiting up to 30 s
        #expect(await eventually { !installations.directory.isActive(installed.id) })
        #expect(installations.rotator.schedule.withLock { $0.count } == 0)
        installations.rotator.advanceClock(by: Double(Self.lifetime))
        try await Task.sleep(for: .milliseconds(200))
        #expect(refreshCalls(sim) == 0)
        loop.cancel()
        await loop.value
    }

    @Test("the loop's wake-up: a signal sent before the wait is kept, a wait ends at its deadline or on cancellation")
    func wakeup() async {
        let wakeup = Wakeup()
        wakeup.signal()
        var started = ContinuousClock.now
        await wakeup.wait(upTo: 30)
        #expect(ContinuousClock.now - started < .seconds(5))
        started = ContinuousClock.now
        await wakeup.wait(upTo: 0.1)  // the signal was used up
        #expect(ContinuousClock.now - started >= .milliseconds(100))
        started = ContinuousClock.now
        let waiting = Task { await wakeup.wait(upTo: 30) }
        try? await Task.sleep(for: .milliseconds(50))
        wakeup.signal()
        await waiting.value
        #expect(ContinuousClock.now - started < .seconds(5))
        started = ContinuousClock.now
        let cancelled = Task { await wakeup.wait(upTo: 30) }
        cancelled.cancel()
        await cancelled.value
        #expect(ContinuousClock.now - started < .seconds(5))
    }

    @Test("the rotation runs with the app and stops with it")
    func runsWithTheApp() async throws {
        let sim = try sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let settings = app(sim, store: temporaryDirectory() + "/installations.db", name: "rotation-runner")
        let installations = try AppInstallations(app: settings, runtime: runtime, logger: quietLogger, environment: [:])
        let installed = try await install(installations, sim, runtime: runtime)
        let runner = try AppRunner(settings: settings, sinks: [:], runtime: runtime, logger: quietLogger, claims: nil, share: nil,
                                   installations: installations)
        let running = Task { try await runner.run() }
        #expect(await eventually { installations.rotator.schedule.withLock { $0.count } == 1 })
        installations.rotator.advanceClock(by: Double(Self.lifetime) - 59)
        #expect(await eventually { refreshCalls(sim) == 1 })
        #expect(await eventually { settled(installations) })
        await runner.stop()
        try await running.value
        // Stopped: due again, nothing refreshes it.
        installations.rotator.advanceClock(by: Double(Self.lifetime))
        try await Task.sleep(for: .milliseconds(200))
        #expect(refreshCalls(sim) == 1)
        #expect(try installations.store.installation(id: installed.id)?.bot?.refreshToken != installed.bot?.refreshToken)
    }
}
