import Foundation
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit
import Testing

@Suite("sockeyed command sink", .serialized)
struct CommandSinkTests {
    @Test("exit 0 acks (with the program's JSON object as the slash command's response); a failure or a timeout nacks")
    func commands() async throws {
        // Starting four shells can take longer than Slack's 3 s on a loaded machine, and a late
        // ack loses its response payload: the deadline is not what this test is about.
        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.config.ackDeadline = 30
        let sim = try SimServer(options)
        defer { sim.stop() }
        let folder = temporaryDirectory()
        var app = AppSettings(name: "commands", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.poolSize = 1
        app.routes = [
            Route(match: RouteMatch(envelopeTypes: ["slash_commands"]), sinks: ["answer"]),
            Route(match: RouteMatch(eventTypes: ["app_mention"]), sinks: ["fail"]),
            Route(match: RouteMatch(eventTypes: ["reaction_added"]), sinks: ["slow"]),
        ]
        // The answering program also keeps what it read, to check it got the event line.
        let answer = #"cat >> "$0"; printf '{"text":"deployed"}\n'"#
        let config = DaemonConfiguration(apps: [app], sinks: [
            "answer": .command(CommandSettings(arguments: ["sh", "-c", answer, folder + "/stdin.jsonl"], concurrency: 2)),
            "fail": .command(CommandSettings(arguments: ["sh", "-c", "cat > /dev/null; exit 3"])),
            "slow": .command(CommandSettings(arguments: ["sleep", "30"], timeoutSeconds: 0.3)),
        ], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "slash_command", count: 4)
        let counters = daemon.runners[0].counters
        #expect(await eventually { counters.snapshot.acked == 4 }, "\(counters.snapshot)")
        #expect(await eventually { sim.report().total.responsePayloads == 4 })
        let lines = jsonLines(folder + "/stdin.jsonl")
        #expect(lines.count == 4 && lines.allSatisfy { $0["event_type"] as? String == "/deploy" })

        _ = sim.inject(kind: "app_mention", count: 2)
        #expect(await eventually { counters.snapshot.nacked >= 2 }, "\(counters.snapshot)")
        #expect(counters.snapshot.lastError?.contains("exited(3)") == true, "\(counters.snapshot)")

        let started = Date()
        _ = sim.inject(kind: "reaction_added", count: 1)
        #expect(await eventually { counters.snapshot.nacked >= 3 }, "\(counters.snapshot)")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(counters.snapshot.lastError?.contains("longer than 0.3 s") == true, "\(counters.snapshot)")
        #expect(counters.snapshot.acked == 4)
        await daemon.stop()
        try await running.value
    }

    @Test("a program that exits without reading its input: the event is acked with its answer, and the daemon lives on")
    func programIgnoringInput() async throws {
        // The line is larger than a pipe's buffer, so the write meets a closed pipe every time.
        let sink = CommandSink(name: "quick", settings: CommandSettings(arguments: ["sh", "-c", #"printf '{"text":"ok"}'"#]))
        let padding = String(repeating: "x", count: 200_000)
        let line = #"{"app":"a","delivery":"socket_mode","envelope_type":"slash_commands","envelope_id":"e1","payload":{"text":"\#(padding)"}}"#
        let record = try EventRecord(line: Array(line.utf8), acceptsResponsePayload: true)
        for _ in 0..<10 {
            let outcome = await sink.accept([record, record])
            #expect(outcome.refused.isEmpty, "\(outcome)")
            #expect(outcome.responses[0].map { String(decoding: $0, as: UTF8.self) } == #"{"text":"ok"}"#)
        }
    }
}
