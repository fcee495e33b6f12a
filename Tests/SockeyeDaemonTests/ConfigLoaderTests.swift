import SockeyeDaemon
import SockeyeSinkKit
import Testing

@Suite("sockeyed configuration")
struct ConfigLoaderTests {
    let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-secret", "OTHER_TOKEN": "xapp-1-A2-1-other"]

    func parse(_ text: String, environment: [String: String]? = nil) throws(ConfigError) -> DaemonConfiguration {
        try ConfigLoader.parse(text, source: "test.yaml", environment: environment ?? self.environment)
    }

    func error(_ text: String, environment: [String: String]? = nil) -> ConfigError? {
        do {
            _ = try parse(text, environment: environment)
            return nil
        } catch {
            return error
        }
    }

    @Test("a full configuration: apps, routes with matches, sinks, environment references")
    func full() throws {
        let config = try parse("""
            apps:
              - name: deploy-bot
                app_token: ${SLACK_APP_TOKEN}
                pool_size: 3
                max_pool_size: 6
                ack: on_receipt
                routes:
                  - match:
                      envelope_type: events_api
                      event_type: [message, app_mention]
                      channel: C123
                    sinks: [archive, stdout]
                  - sinks: stdout
              - name: second
                app_token: ${OTHER_TOKEN}
                api_url: ${SOCKEYE_API_URL:-http://127.0.0.1:9/api/}
                enabled: false
            sinks:
              archive: {type: file, path: /tmp/archive.jsonl}
            operations:
              listen: "off"
            """)
        #expect(config.apps.count == 2)
        let first = config.apps[0]
        #expect(first.appToken == "xapp-1-A1-1-secret" && first.poolSize == 3 && first.maxPoolSize == 6 && first.ack == .onReceipt)
        #expect(first.routes[0].match.eventTypes == ["message", "app_mention"] && first.routes[0].match.channels == ["C123"])
        #expect(first.routes[0].sinks == ["archive", "stdout"] && first.routes[1].sinks == ["stdout"])
        #expect(config.apps[1].apiURL == "http://127.0.0.1:9/api/" && !config.apps[1].enabled)
        #expect(config.sinks["archive"] == .file(path: "/tmp/archive.jsonl") && config.sinks["stdout"] == .stdout)
        #expect(config.operationsAddress == nil)
    }

    @Test("every mistake names the file position and the key")
    func mistakes() {
        let cases: [(String, Int?, String, String)] = [
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    pool_sise: 2\n", 4, "apps[0].pool_sise", "unknown key"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    pool_size: lots\n", 4, "apps[0].pool_size", "from 1 to 10"),
            ("apps:\n  - name: a\n    app_token: ${MISSING_TOKEN}\n", 3, "apps[0].app_token", "MISSING_TOKEN is not set"),
            ("apps:\n  - name: a\n    app_token: xoxb-123-456\n", 3, "apps[0].app_token", "bot token"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes:\n      - sinks: [nowhere]\n", 2, "apps[0].routes[0].sinks", "no sink named \"nowhere\""),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n", 4, "apps[1].name", "used by another app"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes:\n      - match: {envelope_type: events}\n        sinks: stdout\n", 5, "apps[0].routes[0].match.envelope_type", "not an envelope type"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  f: {type: file}\n", 5, "sinks.f.path", "missing"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    pool_size: 4\n    max_pool_size: 2\n", 2, "apps[0].max_pool_size", "at least pool_size"),
            ("apps:\n  - app_token: ${SLACK_APP_TOKEN}\n", 2, "apps[0].name", "missing"),
            ("sinks: {}\n", 1, "apps", "missing"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    ignore_own_messages: true\n", 4, "apps[0].ignore_own_messages", "needs bot_token"),
            ("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    bot_token: xoxp-1-2\n", 4, "apps[0].bot_token", "expected a bot token"),
            ("apps: [\n", nil, "", "YAML"),
        ]
        for (text, line, key, fragment) in cases {
            let found = error(text)
            #expect(found != nil, "accepted: \(text)")
            guard let found else { continue }
            #expect(found.key == key, "\(found)")
            if let line { #expect(found.line == line, "\(found)") }
            #expect(found.message.contains(fragment), "\(found)")
            #expect(found.description.hasPrefix("test.yaml:"), "\(found)")
        }
    }

    @Test("spool sinks take a path, a retention age and a size limit with units")
    func spool() throws {
        let config = try parse("""
            apps:
              - name: a
                app_token: ${SLACK_APP_TOKEN}
                routes: [{sinks: [durable]}]
            sinks:
              durable: {type: spool, path: /tmp/s.sqlite, max_age: 7d, max_size: 512MiB}
            """)
        #expect(config.sinks["durable"] == .spool(SpoolSettings(path: "/tmp/s.sqlite", maxAgeSeconds: 7 * 86400, maxBytes: 512 << 20)))
        let bad = error("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  s: {type: spool, path: x, max_age: soon}\n")
        #expect(bad?.key == "sinks.s.max_age" && bad?.line == 5)
        let misplaced = error("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  f: {type: file, path: x, max_age: 1d}\n")
        #expect(misplaced?.key == "sinks.f.max_age")
    }

    @Test("command sinks take the program and its arguments, a concurrency and a timeout")
    func command() throws {
        let config = try parse("""
            apps:
              - name: a
                app_token: ${SLACK_APP_TOKEN}
                routes: [{sinks: [handler]}]
            sinks:
              handler: {type: command, command: [./handle-event, --quiet], concurrency: 8, timeout: 1500ms}
            """)
        #expect(config.sinks["handler"] == .command(CommandSettings(arguments: ["./handle-event", "--quiet"], concurrency: 8, timeoutSeconds: 1.5)))
        let missing = error("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  h: {type: command}\n")
        #expect(missing?.key == "sinks.h.command" && missing?.line == 5)
    }

    @Test("without a file, SLACK_APP_TOKEN alone makes one app that writes to stdout")
    func environmentOnly() throws {
        let config = try ConfigLoader.environment(["SLACK_APP_TOKEN": "xapp-1-A1-1-s", "SOCKEYE_POOL_SIZE": "3", "SOCKEYE_API_URL": "http://127.0.0.1:1/api/"])
        #expect(config?.apps.count == 1 && config?.apps[0].poolSize == 3 && config?.apps[0].apiURL == "http://127.0.0.1:1/api/")
        #expect(config?.apps[0].routes == [Route(sinks: ["stdout"])])
        #expect(try ConfigLoader.environment([:]) == nil)
        #expect(throws: ConfigError.self) { try ConfigLoader.environment(["SLACK_APP_TOKEN": "xoxp-1-2"]) }
        #expect(throws: ConfigError.self) { try ConfigLoader.environment(["SLACK_APP_TOKEN": "xapp-1-A-1-s", "SOCKEYE_POOL_SIZE": "11"]) }
    }

    @Test("the example configuration in the repository is valid")
    func example() throws {
        let config = try ConfigLoader.load(path: "sockeyed.example.yaml", environment: environment)
        #expect(!config.apps.isEmpty)
    }
}
