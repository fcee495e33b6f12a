import Foundation
import SockeyeDaemon
import SockeyeOperations
import SockeyeSim
import SockeyeSinkKit
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

    @Test("Host check: a name the listener does not answer for is refused with 421 and counted; loopback names, IP literals and allowed names are served")
    func hostCheck() async throws {
        let app = AppSettings(name: "host-app", appToken: SimConfig().apps[0].appTokens[0], apiURL: "http://127.0.0.1:1/api/")
        let config = DaemonConfiguration(apps: [app], sinks: ["stdout": .stdout], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let operations = try OperationsServer(address: "127.0.0.1:0", allowedHosts: ["sockeyed.internal"], daemon: daemon,
                                              metrics: sharedMetrics, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service]) }
        #expect(await eventually { operations.port != nil })
        let port = try #require(operations.port)
        let before = try await httpGet(port, "/metrics").1
        for host in ["evil.example", "evil.example:\(port)", "localhost.evil.example", "127.0.0.1.nip.io", "", "localhost:x"] {
            let answer = rawExchange(port, "GET /status.json HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 421 "), "Host \(host): \(answer)")
            #expect(!answer.contains("\"apps\""), "Host \(host) read the status")
        }
        #expect(rawExchange(port, "GET /metrics HTTP/1.1\r\n\r\n").hasPrefix("HTTP/1.1 421 "), "no Host")
        for host in ["localhost", "localhost:\(port)", "127.0.0.1:\(port)", "[::1]:\(port)", "LOCALHOST", "sockeyed.internal:\(port)", "10.1.2.3:9464"] {
            let answer = rawExchange(port, "GET /healthz HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n")
            #expect(answer.hasPrefix("HTTP/1.1 200 "), "Host \(host): \(answer)")
        }
        let after = try await httpGet(port, "/metrics").1
        let series = #"sockeyed_listener_rejections_total{listener="operations",reason="host"}"#
        #expect(metricValue(after, series) - metricValue(before, series) == 7, "\(after)")
        // A POST with a body is refused before its body is read.
        let post = rawExchange(port, "POST /slack/events HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000000\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.1 405 "), "\(post)")
        await daemon.stop()
        try await running.value
    }
}

/// Sends `text` on a new connection to the loopback `port` and reads until the server closes
/// it or nothing arrives for 5 s.
func rawExchange(_ port: Int, _ text: String) -> String {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return "" }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return "" }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while out.count < 1 << 20 {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 5000) > 0 else { break }
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count <= 0 { break }
        out.append(contentsOf: buffer[..<count])
    }
    return String(decoding: out, as: UTF8.self)
}
