import Foundation
import Sockeye
import SockeyeBridge
import SockeyeDaemon
import SockeyeOperations
import SockeyeSim
import SockeyeSinkKit
import Testing

@Suite("sockeyed status page: no secret on the page or in status.json", .serialized)
struct StatusRedactionTests {
    static let signingSecret = "8f742231b10e8888abcd99yyyzzz85a5"
    /// Values that must never be shown: a command argument, URL credentials and a query.
    static let hidden = ["argumentsecretvalue", "urluservalue", "urlpasswordvalue", "querysecretvalue", "forwardsigningsecret"]

    @Test("command arguments, URL credentials and queries are redacted on the page, in status.json and in recent errors")
    func redacted() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        var app = AppSettings(name: "redaction-app", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.poolSize = 1
        app.routes = [Route(sinks: ["handler", "forward"])]
        let command = CommandSettings(arguments: ["/usr/bin/env", "sh", "-c", "cat > /dev/null", "--token=argumentsecretvalue"])
        // Nothing listens on port 1: every forward fails and its error names the URL.
        let forward = HTTPForwardSettings(eventsURL: "http://urluservalue:urlpasswordvalue@127.0.0.1:1/hook?token=querysecretvalue",
                                          signingSecret: "forwardsigningsecret", timeoutSeconds: 2)
        let config = DaemonConfiguration(apps: [app], sinks: ["handler": .command(command), "forward": .http(forward)], operationsAddress: nil)
        let metricsExport = sharedMetrics
        let daemon = try Daemon(configuration: config, logger: quietLogger, makeSink: { name, settings in
            if case .http(let settings) = settings { return HTTPForwarderSink(name: name, settings: settings, logger: quietLogger) }
            return nil
        })
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: metricsExport, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service]) }
        #expect(await eventually { operations.port != nil && sim.liveConnections(app: 0) == 1 })
        let port = try #require(operations.port)
        _ = sim.inject(kind: "message", count: 1)
        // The forward cannot succeed: the event is nacked and the error names the URL.
        #expect(await eventually { daemon.runners[0].counters.snapshot.nacked >= 1 })
        #expect(await eventually { daemon.runners[0].status.snapshot.recentErrors.contains { $0.message.contains("127.0.0.1:1") } })

        let page = try await httpGet(port, "/").1
        let json = try await httpGet(port, "/status.json").1
        // JSON escapes `/`: read it back before looking for the URL.
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let reserialized = String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes]), as: UTF8.self)
        for text in [page, json, reserialized] {
            for secret in Self.hidden {
                #expect(!text.contains(secret), "\(secret) is shown")
            }
        }
        for text in [page, reserialized] {
            #expect(text.contains("env (+4 arguments)"), "the program is shown")
            #expect(text.contains("http://127.0.0.1:1/hook"), "the URL's host and path are shown")
        }
        await daemon.stop()
        try await running.value
    }

    @Test("sockeyed check's findings never show the tokens or an api_url's credentials and query")
    func checkFindings() async throws {
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        var app = AppSettings(name: "checked", appToken: "xapp-1-A0CHECK-1-checkappsecret",
                              apiURL: "http://urluservalue:urlpasswordvalue@127.0.0.1:1/api/?token=querysecretvalue")
        app.botToken = "xoxb-1-2-checkbotsecret"
        let check = await AppCheck.run(app, runtime: runtime, probe: .seconds(1), environment: [:])
        #expect(!check.passed)
        let text = check.findings.map(\.text).joined(separator: "\n")
        for secret in Self.hidden + ["checkappsecret", "checkbotsecret"] {
            #expect(!text.contains(secret), "\(secret) in: \(text)")
        }
    }

    @Test("Redaction: programs without their arguments (URLs: URLRedactionTests in the core)")
    func redactionForms() {
        #expect(Redaction.command(["deploy.sh", "a", "b", "c"]) == "deploy.sh (+3 arguments)")
        #expect(Redaction.command(["/opt/tools/handle", "--secret=x"]) == "handle (+1 argument)")
        #expect(Redaction.command(["handle"]) == "handle")
        #expect(Redaction.command([]) == "(no program)")
    }
}
