import Foundation
import Logging
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit
import Testing

/// Starts an in-process simulator on a free loopback port.
func startSim() throws -> SimServer {
    var options = SimServer.Options()
    options.config.pingInterval = 1
    return try SimServer(options)
}

/// A fresh temporary directory for a test's files.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "sockeyed-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// The JSON lines of a file.
func jsonLines(_ path: String) -> [[String: Any]] {
    let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
}

/// Waits (bounded) until `condition` holds.
func eventually(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

let quietLogger: Logger = {
    var logger = Logger(label: "sockeyed-tests")
    logger.logLevel = .warning
    return logger
}()

@Suite("sockeyed delivers to sinks", .serialized)
struct DaemonDeliveryTests {
    @Test("events are routed by envelope and event type, written as JSON lines, then acked; unrouted ones are acked and counted")
    func routesAndAcks() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let folder = temporaryDirectory()
        var app = AppSettings(name: "routing", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.routes = [
            Route(match: RouteMatch(envelopeTypes: ["events_api"], eventTypes: ["message"]), sinks: ["messages"]),
            Route(match: RouteMatch(envelopeTypes: ["slash_commands"]), sinks: ["commands", "messages"]),
        ]
        let config = DaemonConfiguration(
            apps: [app],
            sinks: ["messages": .file(path: folder + "/messages.jsonl"), "commands": .file(path: folder + "/commands.jsonl")],
            operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 2 })
        _ = sim.inject(kind: "message", count: 20)
        _ = sim.inject(kind: "slash_command", count: 5)
        _ = sim.inject(kind: "block_actions", count: 5)
        let counters = daemon.runners[0].counters
        #expect(await eventually { counters.snapshot.acked == 30 }, "\(counters.snapshot)")
        await daemon.stop()
        try await running.value

        let messages = jsonLines(folder + "/messages.jsonl")
        let commands = jsonLines(folder + "/commands.jsonl")
        #expect(messages.count == 25)  // 20 messages and the 5 commands (routed to both files)
        #expect(Set(messages.compactMap { $0["event_id"] as? String }).count == 20)
        #expect(commands.count == 5 && commands.allSatisfy { $0["envelope_type"] as? String == "slash_commands" })
        #expect(commands.allSatisfy { $0["event_type"] as? String == "/deploy" && $0["channel"] as? String == "C0SIMCHAN" })
        let first = try #require(messages.first)
        #expect(first["app"] as? String == "routing" && first["delivery"] as? String == "socket_mode")
        #expect((first["payload"] as? [String: Any])?["team_id"] as? String == "T0SIM0001")
        #expect(counters.snapshot.unrouted == 5 && counters.snapshot.nacked == 0)
        // Every line has exactly the members the documented schema requires.
        let schemaData = try #require(FileManager.default.contents(atPath: "docs/event-line.schema.json"))
        let schema = try #require(try JSONSerialization.jsonObject(with: schemaData) as? [String: Any])
        let required = Set(try #require(schema["required"] as? [String]))
        #expect((messages + commands).allSatisfy { Set($0.keys) == required })
        let report = sim.report()
        #expect(report.total.delivered == 30 && report.total.acked == 30 && report.total.failedAfterRetries == 0 && report.lost == 0)
    }

    @Test("a sink that cannot write (a full disk) nacks its events: nothing is acked, Slack keeps them")
    func fullDiskNacks() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        var app = AppSettings(name: "full-disk", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.poolSize = 1
        app.routes = [Route(sinks: ["disk"])]
        let config = DaemonConfiguration(apps: [app], sinks: ["disk": .file(path: "/dev/full")], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 10)
        let counters = daemon.runners[0].counters
        #expect(await eventually { counters.snapshot.nacked >= 10 }, "\(counters.snapshot)")
        #expect(counters.snapshot.acked == 0 && counters.snapshot.sinkFailures >= 1)
        #expect(counters.snapshot.lastError?.contains("No space left on device") == true, "\(counters.snapshot)")
        let health = try #require(daemon.sinks["disk"]?.health)
        #expect(health.kind == "file" && health.problem?.contains("No space left on device") == true && health.since != nil, "\(health)")
        await daemon.stop()
        try await running.value
        #expect(sim.report().total.acked == 0)
    }
}
