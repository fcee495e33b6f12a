import Foundation
import Sockeye
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit
import Testing

@Suite("sockeyed check and the own-message filter", .serialized)
struct CheckAndOwnMessageTests {
    func app(_ sim: SimServer, bot: Bool = true, routes: [Route]) -> AppSettings {
        var settings = AppSettings(name: "checked", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        settings.botToken = bot ? SimConfig().botTokens[0].token : nil
        settings.ignoreOwnMessages = bot
        settings.routes = routes
        return settings
    }

    @Test("check reports the bot's identity, missing scopes and other processes holding the app's connections")
    func check() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let mentions = [Route(match: RouteMatch(envelopeTypes: ["events_api"], eventTypes: ["app_mention"]), sinks: ["stdout"])]
        let clean = await AppCheck.run(app(sim, routes: mentions), runtime: runtime, environment: [:])
        #expect(clean.passed, "\(clean.findings)")
        #expect(clean.findings.contains { $0.text.contains("bot user U0SIMBOT1") && $0.text.contains("bot id B0SIMBOT1") })
        #expect(clean.findings.contains { $0.text.contains("Slack counts 1") })
        #expect(!clean.findings.contains { $0.text.contains("simsecret") })  // never the token

        let messages = [Route(match: RouteMatch(eventTypes: ["message"]), sinks: ["stdout"])]
        let lacking = await AppCheck.run(app(sim, routes: messages), runtime: runtime, environment: [:])
        #expect(lacking.findings.contains { !$0.ok && $0.text.contains("channels:history") }, "\(lacking.findings)")

        // Another process holds two connections of the app.
        var options = SocketModeOptions()
        options.apiBaseURL = sim.apiBaseURL
        options.environment = [:]
        let other = try SocketModeClient(appToken: SimConfig().apps[0].appTokens[0], options: options)
        let otherRuns = Task { try await other.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 2 })
        let shared = await AppCheck.run(app(sim, routes: mentions), runtime: runtime, environment: [:])
        #expect(shared.findings.contains { !$0.ok && $0.text.contains("Slack counts 3") }, "\(shared.findings)")
        // In a cluster other nodes holding connections is the point: no probe, nothing to fix.
        let opened = sim.report().connectionsOpened
        let clustered = await AppCheck.run(app(sim, routes: mentions), runtime: runtime, probe: nil, environment: [:])
        #expect(clustered.passed, "\(clustered.findings)")
        #expect(clustered.findings.contains { $0.text.contains("shared by the cluster") })
        #expect(sim.report().connectionsOpened == opened)
        await other.stop()
        try await otherRuns.value

        var wrong = app(sim, bot: false, routes: mentions)
        wrong.appToken = "xapp-1-A0NOTKNOWN-1-nope"
        let refused = await AppCheck.run(wrong, runtime: runtime, probe: .seconds(2), environment: [:])
        #expect(refused.findings.contains { !$0.ok && $0.text.contains("invalid_auth") }, "\(refused.findings)")
    }

    @Test("with a bot token, events the bot itself authored are acked and dropped; the rest reach the sinks")
    func ownMessages() async throws {
        let fixtures = temporaryDirectory()
        let own = #"{"type":"events_api","payload":{"token":"t","team_id":"T0SIM0001","api_app_id":"A0SIMAPP01","event":{"type":"message","user":"U0SIMBOT1","bot_id":"B0SIMBOT1","text":"posted by the bot","channel":"C0SIMCHAN","ts":"1.1"},"type":"event_callback","event_id":"Ev0000000000000000","event_time":1}}"#
        try own.write(toFile: fixtures + "/bot_message.json", atomically: true, encoding: .utf8)
        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.fixtures = fixtures
        let sim = try SimServer(options)
        defer { sim.stop() }
        let folder = temporaryDirectory()
        let config = DaemonConfiguration(apps: [app(sim, routes: [Route(sinks: ["file"])])],
                                         sinks: ["file": .file(path: folder + "/events.jsonl")], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 2 })
        // The identity is learnt before the first batch; give it a moment, then send both kinds.
        try await Task.sleep(for: .milliseconds(300))
        _ = sim.inject(kind: "bot_message", count: 3)
        _ = sim.inject(kind: "message", count: 4)
        let counters = daemon.runners[0].counters
        #expect(await eventually { counters.snapshot.acked == 7 }, "\(counters.snapshot)")
        #expect(counters.snapshot.ownMessages == 3)
        #expect(jsonLines(folder + "/events.jsonl").count == 4)
        await daemon.stop()
        try await running.value
        #expect(sim.report().total.acked == 7)
    }
}
