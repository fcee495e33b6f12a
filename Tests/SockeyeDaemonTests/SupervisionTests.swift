import Foundation
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit
import Testing

@Suite("sockeyed app supervision", .serialized)
struct SupervisionTests {
    /// Two apps on one daemon: `good` (a token the simulator knows) and `other`.
    func apps(sim: SimServer, otherToken: String) -> DaemonConfiguration {
        var good = AppSettings(name: "good", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        good.poolSize = 1
        good.routes = [Route(sinks: ["null"])]
        var other = AppSettings(name: "other", appToken: otherToken, apiURL: sim.apiBaseURL)
        other.poolSize = 1
        other.routes = [Route(sinks: ["null"])]
        return DaemonConfiguration(apps: [good, other], sinks: ["null": .file(path: "/dev/null")], operationsAddress: nil)
    }

    @Test("a token Slack refuses (invalid_auth) disables that app with its reason; the other app runs on")
    func fatalDisables() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let daemon = try Daemon(configuration: apps(sim: sim, otherToken: "xapp-1-A0NOSUCHAPP-1-wrong"), logger: quietLogger)
        let running = Task { try await daemon.run() }
        let other = try #require(daemon.runners.first { $0.settings.name == "other" })
        #expect(await eventually { other.status.snapshot.state.isDisabled }, "\(other.status.snapshot)")
        #expect(other.status.snapshot.state.description.contains("invalid_auth"), "\(other.status.snapshot.state)")
        // Disabled means left alone: not restarted, still listed with its reason.
        try await Task.sleep(for: .seconds(1.5))
        #expect(daemon.runners.contains { $0 === other } && other.status.snapshot.state.isDisabled)
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 5)
        let good = try #require(daemon.runners.first { $0.settings.name == "good" })
        #expect(await eventually { good.counters.snapshot.acked == 5 }, "\(good.counters.snapshot)")
        await daemon.stop()
        try await running.value
    }

    @Test("an app whose client stops on its own is rebuilt and started again after a backoff; events reach the new instance")
    func unexpectedEndRestarts() async throws {
        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.config.apps = [SimConfig().apps[0], SimConfig.App(appID: "A0SUPERV02", appTokens: ["xapp-1-A0SUPERV02-1-s"])]
        let sim = try SimServer(options)
        defer { sim.stop() }
        let daemon = try Daemon(configuration: apps(sim: sim, otherToken: "xapp-1-A0SUPERV02-1-s"), logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 && sim.liveConnections(app: 1) == 1 })
        let first = try #require(daemon.runners.first { $0.settings.name == "good" })
        let untouched = try #require(daemon.runners.first { $0.settings.name == "other" })

        // Stopped behind the daemon's back (not by a reload or a shutdown).
        await first.stop()
        #expect(await eventually { first.status.snapshot.state.isRestarting }, "\(first.status.snapshot)")
        #expect(first.status.snapshot.recentErrors.contains { $0.message.contains("ended unexpectedly") })
        #expect(await eventually { daemon.runners.first { $0.settings.name == "good" } !== first })
        let second = try #require(daemon.runners.first { $0.settings.name == "good" })
        #expect(await eventually { sim.liveConnections(app: 0) == 1 && second.clientStats.liveConnections == 1 })
        #expect(daemon.runners.first { $0.settings.name == "other" } === untouched)
        _ = sim.inject(kind: "message", count: 7)
        #expect(await eventually { second.counters.snapshot.acked == 7 }, "\(second.counters.snapshot)")
        await daemon.stop()
        try await running.value
        #expect(sim.report().total.failedAfterRetries == 0)
    }
}
