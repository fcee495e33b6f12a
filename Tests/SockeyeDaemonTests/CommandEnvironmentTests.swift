import Foundation
import SockeyeDaemon
import Testing

@Suite("sockeyed command sink: the program's environment", .serialized)
struct CommandEnvironmentTests {
    /// Secrets as a daemon's environment holds them.
    static let secrets = [
        "SLACK_APP_TOKEN": "xapp-1-A0ENV-1-appsecretvalue",
        "SLACK_BOT_TOKEN": "xoxb-1-2-botsecretvalue",
        "SLACK_SIGNING_SECRET": "signingsecretvalue0123456789abcd",
        "HTTPS_PROXY": "http://user:proxypasswordvalue@127.0.0.1:3128",
    ]

    /// The variables the program printed (`env -0`), by name.
    func printedEnvironment(_ path: String) -> [String: String] {
        let data = FileManager.default.contents(atPath: path) ?? Data()
        var out: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            out[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return out
    }

    @Test("the program gets PATH, HOME, LANG, TZ, the event's metadata and the sink's env:, never the daemon's secrets")
    func minimalEnvironment() async throws {
        let folder = temporaryDirectory()
        // The daemon's environment with secrets in it (given, not set process-wide: other tests
        // run alongside; the real process environment is the Python test_no_secrets_in_output's).
        var daemonEnvironment = ProcessInfo.processInfo.environment.merging(Self.secrets) { _, secret in secret }
        daemonEnvironment["TZ"] = "UTC"
        let settings = CommandSettings(arguments: ["sh", "-c", #"cat > /dev/null; env -0 > "$0""#, folder + "/env"],
                                       environment: ["HANDLER_MODE": "strict", "HANDLER_TOKEN": "passed-on-purpose"])
        let sink = CommandSink(name: "handler", settings: settings, inherited: daemonEnvironment)
        let outcome = await sink.accept([ingressRecord(app: "env-app", eventID: "Ev0ENVIRON")])
        #expect(outcome.refused.isEmpty, "\(outcome)")
        let printed = printedEnvironment(folder + "/env")
        #expect(!printed.isEmpty)
        let text = String(decoding: FileManager.default.contents(atPath: folder + "/env") ?? Data(), as: UTF8.self)
        for (name, value) in Self.secrets {
            #expect(printed[name] == nil, "\(name) reached the program")
            #expect(!text.contains(value), "\(name)'s value reached the program")
        }
        #expect(printed["PATH"] == ProcessInfo.processInfo.environment["PATH"])
        #expect(printed["TZ"] == "UTC")
        #expect(printed["HANDLER_MODE"] == "strict" && printed["HANDLER_TOKEN"] == "passed-on-purpose")
        #expect(printed["SOCKEYE_APP"] == "env-app" && printed["SOCKEYE_EVENT_ID"] == "Ev0ENVIRON")
        #expect(printed["SOCKEYE_ENVELOPE_TYPE"] == "events_api" && printed["SOCKEYE_EVENT_TYPE"] == "message")
        #expect(printed["SOCKEYE_TEAM_ID"] == "T0REC" && printed["SOCKEYE_CHANNEL_ID"] == "C0REC" && printed["SOCKEYE_DELIVERY"] == "http")
        let allowed = Set(ChildEnvironment.passedThrough + ["HANDLER_MODE", "HANDLER_TOKEN", "PWD", "SHLVL", "_"])
        for name in printed.keys where !name.hasPrefix("SOCKEYE_") {
            #expect(allowed.contains(name), "unexpected variable \(name) in the program's environment")
        }
        await sink.close()
    }

    @Test("env: takes ${ENV} references and refuses names that cannot be variables")
    func configuration() throws {
        let yaml = { (env: String) in
            "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes: [{sinks: [h]}]\nsinks:\n  h: {type: command, command: [x], env: \(env)}\n"
        }
        let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-s", "DB_URL": "postgres://db/events"]
        let config = try ConfigLoader.parse(yaml("{DATABASE: \"${DB_URL}\", MODE: fast}"), source: "t.yaml", environment: environment)
        #expect(config.sinks["h"] == .command(CommandSettings(arguments: ["x"], environment: ["DATABASE": "postgres://db/events", "MODE": "fast"])))
        for bad in ["{1ABC: x}", "{\"A-B\": x}", "{\"A B\": x}", "[A, B]"] {
            #expect(throws: ConfigError.self, "\(bad)") { try ConfigLoader.parse(yaml(bad), source: "t.yaml", environment: environment) }
        }
        let misplaced = "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  f: {type: file, path: x, env: {A: b}}\n"
        #expect(throws: ConfigError.self) { try ConfigLoader.parse(misplaced, source: "t.yaml", environment: environment) }
    }
}
