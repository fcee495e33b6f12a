import Foundation
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit
import Testing

@Suite("sockeyed reload", .serialized)
struct ReloadTests {
    @Test("a reload starts added apps, drains removed ones, restarts changed ones and leaves the rest untouched")
    func reload() async throws {
        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.config.apps = (1...3).map { SimConfig.App(appID: "A0RELOAD0\($0)", appTokens: ["xapp-1-A0RELOAD0\($0)-1-s"]) }
        let sim = try SimServer(options)
        defer { sim.stop() }
        let folder = temporaryDirectory()
        func app(_ number: Int, pool: Int = 1) -> AppSettings {
            var settings = AppSettings(name: "app\(number)", appToken: "xapp-1-A0RELOAD0\(number)-1-s", apiURL: sim.apiBaseURL)
            settings.poolSize = pool
            settings.routes = [Route(sinks: ["file"])]
            return settings
        }
        let sinks: [String: SinkSettings] = ["file": .file(path: folder + "/events.jsonl")]
        let daemon = try Daemon(configuration: DaemonConfiguration(apps: [app(1), app(2)], sinks: sinks, operationsAddress: nil),
                                logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 && sim.liveConnections(app: 1) == 1 })
        let first = try #require(daemon.runners.first { $0.settings.name == "app1" })

        // app1 unchanged, app2 removed, app3 added.
        let summary = try await daemon.reload(DaemonConfiguration(apps: [app(1), app(3)], sinks: sinks, operationsAddress: nil))
        #expect(summary == Daemon.ReloadSummary(started: ["app3"], stopped: ["app2"], restarted: [], unchanged: ["app1"]))
        #expect(daemon.runners.first { $0.settings.name == "app1" } === first)
        #expect(await eventually { sim.liveConnections(app: 2) == 1 && sim.liveConnections(app: 1) == 0 })
        #expect(sim.liveConnections(app: 0) == 1)

        // app1 changed (a second connection): restarted; events flow to the new instance.
        let changed = try await daemon.reload(DaemonConfiguration(apps: [app(1, pool: 2), app(3)], sinks: sinks, operationsAddress: nil))
        #expect(changed.restarted == ["app1"] && changed.unchanged == ["app3"])
        #expect(await eventually { sim.liveConnections(app: 0) == 2 })
        let replaced = try #require(daemon.runners.first { $0.settings.name == "app1" })
        #expect(replaced !== first)
        _ = sim.inject(kind: "message", count: 5, app: 0)
        _ = sim.inject(kind: "message", count: 5, app: 2)
        #expect(await eventually { replaced.counters.snapshot.acked == 5 })
        #expect(await eventually { daemon.runners.reduce(0) { $0 + $1.counters.snapshot.acked } == 10 })

        // A configuration whose sink cannot open changes nothing.
        await #expect(throws: DaemonError.self) {
            try await daemon.reload(DaemonConfiguration(apps: [app(1)], sinks: ["file": .file(path: "/nonexistent-dir/x.jsonl")], operationsAddress: nil))
        }
        #expect(daemon.runners.count == 2)
        await daemon.stop()
        try await running.value
        #expect(sim.report().total.failedAfterRetries == 0)
    }
}
