import SockeyeDaemon
import SockeyeOperations
import SockeyeSinkKit
import Testing

/// Makes event records as the ingress reads them (the public way to get one).
func ingressRecord(app: String = "t", eventID: String = "Ev0RECORD", retryNumber: String? = nil, retryReason: String? = nil) -> EventRecord {
    let body = Array(#"{"token":"x","team_id":"T0REC","api_app_id":"A0REC","event":{"type":"message","user":"U0HUMAN","text":"hi","channel":"C0REC","ts":"1.2"},"type":"event_callback","event_id":"\#(eventID)","event_time":1700000000}"#.utf8)
    let reading = body.withUnsafeBytes {
        IngressRequest.read($0, kind: .events, app: app, retryNumber: retryNumber, retryReason: retryReason, receivedAtMilliseconds: 1_765_000_000_000)
    }
    guard case .event(let record) = reading else { fatalError("the test event does not read: \(reading)") }
    return record
}

@Suite("sockeyed configuration: numbers are range-checked")
struct ConfigRangeTests {
    let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-secretpart", "SIGNING": "0123456789abcdef0123456789abcdef"]

    func error(_ text: String) -> ConfigError? {
        configError(text, environment: environment)
    }

    func sinkError(_ sink: String) -> ConfigError? {
        error("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes: [{sinks: [s]}]\nsinks:\n  s: \(sink)\n")
    }

    @Test("durations and sizes that are not finite, not positive or out of range are one-line errors naming the range",
          arguments: [
              ("{type: command, command: [x], timeout: infs}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: nans}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: 1e300s}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: 2d}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: -0s}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: 0ms}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: 0.0001s}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: 0x10s}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], timeout: 99999999999999999999999999s}", "sinks.s.timeout", "1ms to 1d"),
              ("{type: command, command: [x], concurrency: 99999999999999999999}", "sinks.s.concurrency", "from 1 to 256"),
              ("{type: command, command: [x], concurrency: -1}", "sinks.s.concurrency", "from 1 to 256"),
              ("{type: http, url: 'http://127.0.0.1:1/', signing_secret: x, timeout: 1e300s}", "sinks.s.timeout", "1ms to 1h"),
              ("{type: http, url: 'http://127.0.0.1:1/', signing_secret: x, timeout: infms}", "sinks.s.timeout", "1ms to 1h"),
              ("{type: http, url: 'http://127.0.0.1:1/', signing_secret: x, concurrency: 1000000}", "sinks.s.concurrency", "from 1 to 1024"),
              ("{type: spool, path: x, max_size: 1e30GiB}", "sinks.s.max_size", "1MiB to 64TiB"),
              ("{type: spool, path: x, max_size: infGiB}", "sinks.s.max_size", "1MiB to 64TiB"),
              ("{type: spool, path: x, max_size: 99999999999999999999}", "sinks.s.max_size", "1MiB to 64TiB"),
              ("{type: spool, path: x, max_size: 100TiB}", "sinks.s.max_size", "1MiB to 64TiB"),
              ("{type: spool, path: x, max_size: 1KiB}", "sinks.s.max_size", "1MiB to 64TiB"),
              ("{type: spool, path: x, max_size: -5MiB}", "sinks.s.max_size", "1MiB to 64TiB"),
              ("{type: spool, path: x, max_age: nand}", "sinks.s.max_age", "1s to 3650d"),
              ("{type: spool, path: x, max_age: 1e300s}", "sinks.s.max_age", "1s to 3650d"),
              ("{type: spool, path: x, max_age: 100000000d}", "sinks.s.max_age", "1s to 3650d"),
          ])
    func refused(_ sink: String, _ key: String, _ range: String) {
        let found = sinkError(sink)
        #expect(found?.key == key, "\(sink): \(String(describing: found))")
        #expect(found?.line == 6 && found?.column != nil, "\(String(describing: found))")
        #expect(found?.message.contains(range) == true, "\(String(describing: found))")
        #expect(found.map { !$0.description.contains("\n") } == true)
    }

    @Test("a body limit is taken from 1B to 64MiB")
    func bodyLimit() throws {
        func app(_ size: String) -> String {
            "apps:\n  - name: h\n    app_token: ${SLACK_APP_TOKEN}\n    ingress: {max_body: \(size)}\n"
        }
        for bad in ["1e30GiB", "65MiB", "0", "nanB", "1.5.5KiB"] {
            let found = error(app(bad))
            #expect(found?.key == "apps[0].ingress.max_body" && found?.message.contains("1B to 64MiB") == true, "\(bad): \(String(describing: found))")
        }
        let config = try ConfigLoader.parse(app("1.5 KiB"), source: "test.yaml", environment: environment)
        #expect(config.apps[0].ingress.maxBodyBytes == 1536)
    }

    @Test("sizes and durations in range still read as before")
    func accepted() throws {
        let config = try ConfigLoader.parse("""
            apps:
              - name: a
                app_token: ${SLACK_APP_TOKEN}
                routes: [{sinks: [c, s, h]}]
            sinks:
              c: {type: command, command: [x], timeout: 1.5h}
              s: {type: spool, path: x, max_age: 3650d, max_size: 64TiB}
              h: {type: http, url: 'http://127.0.0.1:1/', signing_secret: x, timeout: 1ms}
            """, source: "test.yaml", environment: environment)
        #expect(config.sinks["c"] == .command(CommandSettings(arguments: ["x"], timeoutSeconds: 5400)))
        #expect(config.sinks["s"] == .spool(SpoolSettings(path: "x", maxAgeSeconds: 3650 * 86400, maxBytes: 64 << 40)))
        guard case .http(let http) = config.sinks["h"] else { Issue.record("no http sink"); return }
        #expect(http.timeoutSeconds == 0.001)
    }

    @Test("SOCKEYE_POOL_SIZE outside 1...10, huge or not a number is refused",
          arguments: ["0", "11", "99999999999999999999999", "-9223372036854775808", "1e1", "nan", " 2", "٣"])
    func poolSizeFromEnvironment(_ value: String) {
        #expect(throws: ConfigError.self) { try ConfigLoader.environment(["SLACK_APP_TOKEN": "xapp-1-A-1-s", "SOCKEYE_POOL_SIZE": value]) }
    }

    @Test("conversions of seconds for timers cannot trap: NaN and negatives are 0, infinities and huge values the ceiling")
    func boundedTime() {
        #expect(BoundedTime.milliseconds(.nan) == 0)
        #expect(BoundedTime.milliseconds(-.infinity) == 0)
        #expect(BoundedTime.milliseconds(-1) == 0)
        #expect(BoundedTime.milliseconds(-0.0) == 0)
        #expect(BoundedTime.milliseconds(.infinity) == BoundedTime.maxMilliseconds)
        #expect(BoundedTime.milliseconds(1e300) == BoundedTime.maxMilliseconds)
        #expect(BoundedTime.milliseconds(.greatestFiniteMagnitude) == BoundedTime.maxMilliseconds)
        #expect(BoundedTime.milliseconds(2.5) == 2500)
        #expect(BoundedTime.duration(.infinity) == .milliseconds(BoundedTime.maxMilliseconds))
    }

    @Test("a command sink built with an infinite timeout runs its program instead of trapping")
    func infiniteCommandTimeout() async {
        let sink = CommandSink(name: "forever", settings: CommandSettings(arguments: ["sh", "-c", "cat > /dev/null"], timeoutSeconds: .infinity))
        let outcome = await sink.accept([ingressRecord()])
        #expect(outcome.refused.isEmpty, "\(outcome)")
    }

    @Test("errors never repeat a token or secret: references stay references, token-like and long literals are described",
          arguments: [
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    pool_size: ${SLACK_APP_TOKEN}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    ack: ${SLACK_APP_TOKEN}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    enabled: ${SLACK_APP_TOKEN}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    delivery: ${SIGNING}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    pool_size: xapp-1-A1-1-secretpart\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    pool_size: 0123456789abcdef0123456789abcdef\n",
              "apps:\n  - name: a\n    app_token: xoxb-1-2-secretpart\n",
              "apps:\n  - name: a\n    app_token: xoxp-1-2-secretpart\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes: [{sinks: [\"${SLACK_APP_TOKEN}\"]}]\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes: [{sinks: [stdout], match: {envelope_type: \"${SIGNING}\"}}]\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  s: {type: \"${SLACK_APP_TOKEN}\"}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  s: {type: \"${SLACK_APP_TOKEN}\", url: x}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  s: {type: spool, path: x, max_age: \"${SIGNING}\"}\n",
              "apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\nsinks:\n  s: {type: spool, path: x, max_size: \"${SLACK_APP_TOKEN:-x}\"}\n",
          ])
    func noSecretsInErrors(_ text: String) {
        let found = error(text)
        #expect(found != nil, "accepted: \(text)")
        let shown = found?.description ?? ""
        for secret in ["secretpart", "0123456789abcdef0123456789abcdef"] {
            #expect(!shown.contains(secret), "\(shown)")
        }
    }

    @Test("SOCKEYE_API_URL must be an http(s) URL, and its error does not repeat it")
    func apiURLFromEnvironment() {
        for bad in ["slack.com/api", "ftp://x/", "http://user:secretpart@ho st/"] {
            do {
                _ = try ConfigLoader.environment(["SLACK_APP_TOKEN": "xapp-1-A-1-s", "SOCKEYE_API_URL": bad])
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.key == "SOCKEYE_API_URL" && !error.description.contains("secretpart"), "\(error)")
            }
        }
    }

    @Test("SOCKEYE_POOL_SIZE's error does not repeat a token put there by mistake")
    func poolSizeErrorHidesTokens() {
        do {
            _ = try ConfigLoader.environment(["SLACK_APP_TOKEN": "xapp-1-A-1-s", "SOCKEYE_POOL_SIZE": "xapp-1-A-1-secretpart"])
            Issue.record("accepted")
        } catch {
            #expect(!error.description.contains("secretpart"), "\(error)")
        }
    }
}
