import Foundation
import SockeyeDaemon
import SockeyeOperations
import SockeyeSim
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// swift-metrics may be bootstrapped once per process.
let sharedMetrics = MetricsExport.bootstrap()

/// GET `path` on the loopback port: (status, body).
func httpGet(_ port: Int, _ path: String) async throws -> (Int, String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

@Suite("sockeyed operations listener", .serialized)
struct OperationsTests {
    @Test("healthz, readyz (only once connected), metrics and the status page reflect the running app")
    func endpoints() async throws {
        let metrics = sharedMetrics
        let sim = try startSim()
        defer { sim.stop() }
        let folder = temporaryDirectory()
        var app = AppSettings(name: "ops-app", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.routes = [Route(sinks: ["file"])]
        let config = DaemonConfiguration(apps: [app], sinks: ["file": .file(path: folder + "/events.jsonl")], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: metrics, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service]) }
        #expect(await eventually { operations.port != nil })
        let port = try #require(operations.port)
        #expect(try await httpGet(port, "/healthz") == (200, "ok\n"))
        #expect(await eventually { sim.liveConnections(app: 0) == 2 })
        // Ready once the client itself counts a live connection.
        #expect(await eventually { daemon.runners[0].clientStats.liveConnections > 0 })
        #expect(try await httpGet(port, "/readyz") == (200, "ready\n"))
        _ = sim.inject(kind: "message", count: 12)
        #expect(await eventually { daemon.runners[0].counters.snapshot.acked == 12 })
        let (metricsStatus, text) = try await httpGet(port, "/metrics")
        #expect(metricsStatus == 200)
        #expect(text.contains(#"sockeyed_events_acked_total{app="ops-app"} 12"#), "\(text.prefix(2000))")
        #expect(text.contains(#"sockeyed_events_received_total{app="ops-app",envelope_type="events_api"} 12"#))
        #expect(text.contains("sockeyed_ack_latency_seconds"))
        let (pageStatus, page) = try await httpGet(port, "/")
        #expect(pageStatus == 200 && page.contains("ops-app") && page.contains("ready") && page.contains("<table"))
        let (_, json) = try await httpGet(port, "/status.json")
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let apps = object?["apps"] as? [[String: Any]]
        #expect((apps?.first?["events"] as? [String: Any])?["acked"] as? Int == 12)
        await daemon.stop()
        try await running.value
    }

    @Test("readyz is 503 and names the app while it has no live connection")
    func notReady() async throws {
        // An API URL nothing listens on: the app never connects.
        let app = AppSettings(name: "unreachable", appToken: SimConfig().apps[0].appTokens[0], apiURL: "http://127.0.0.1:1/api/")
        let config = DaemonConfiguration(apps: [app], sinks: ["stdout": .stdout], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: sharedMetrics, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service]) }
        #expect(await eventually { operations.port != nil })
        let port = try #require(operations.port)
        let (status, body) = try await httpGet(port, "/readyz")
        #expect(status == 503 && body.contains("unreachable"))
        #expect(throws: OperationsError.self) {
            try OperationsServer(address: "nowhere", daemon: daemon, metrics: sharedMetrics, logger: quietLogger)
        }
        await daemon.stop()
        try await running.value
    }
}
