import Foundation
import SockeyeDaemon
import SockeyeOperations
import SockeyeSim
import SockeyeSinkKit
import SockeyeSlackSignature
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs `body` to the ingress, signed with `secret` by the simulator's own implementation
/// of Slack's signature (not the daemon's), `age` seconds ago; (status, body).
func slackPost(_ port: Int, _ path: String, body: [UInt8], contentType: String, secret: String, age: Int = 0,
               signature: String? = nil, headers: [String: String] = [:]) async throws -> (Int, String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = "POST"
    request.httpBody = Data(body)
    let timestamp = String(Int(Date().timeIntervalSince1970) - age)
    request.setValue(contentType, forHTTPHeaderField: "Content-Type")
    request.setValue(timestamp, forHTTPHeaderField: "X-Slack-Request-Timestamp")
    request.setValue(signature ?? SlackRequestSignature.sign(secret: Array(secret.utf8), timestamp: timestamp, body: body), forHTTPHeaderField: "X-Slack-Signature")
    for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

@Suite("sockeyed HTTP ingress", .serialized)
struct IngressTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"

    func eventBody(_ id: String, text: String = "hello") -> [UInt8] {
        Array(#"{"token":"x","team_id":"T0INGRESS","api_app_id":"A0INGRESS","event":{"type":"message","user":"U0HUMAN","text":"\#(text)","channel":"C0GENERAL","ts":"1.2"},"type":"event_callback","event_id":"\#(id)","event_time":1700000000}"#.utf8)
    }

    @Test("signed events, slash commands and interactions reach the sinks as normalized lines; bad, stale, oversize and malformed requests are refused and reach none")
    func ingress() async throws {
        let folder = temporaryDirectory()
        var app = AppSettings(name: "http-app", appToken: "")
        app.delivery = .http
        app.signingSecret = Self.secret
        app.ingress.maxBodyBytes = 64 * 1024
        app.routes = [Route(match: RouteMatch(envelopeTypes: ["slash_commands"]), sinks: ["reply"]), Route(sinks: ["file"])]
        let reply = CommandSettings(arguments: ["sh", "-c", #"cat > /dev/null; echo '{"text":"deployed"}'"#])
        var config = DaemonConfiguration(apps: [app], sinks: ["file": .file(path: folder + "/events.jsonl"), "reply": .command(reply)],
                                         operationsAddress: nil)
        // As sockeyed would have it: the public listener below serves the app.
        config.listeners.publicAddress = "127.0.0.1:0"
        // Metrics first, as sockeyed does: the daemon's counters are made when its apps are.
        let metricsExport = sharedMetrics
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: metricsExport, logger: quietLogger)
        let publicListener = try PublicServer(address: "127.0.0.1:0", daemon: daemon, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service, publicListener.service]) }
        #expect(await eventually { operations.port != nil && publicListener.port != nil && daemon.runners.first?.isReady == true })
        let opsPort = try #require(operations.port)
        let port = try #require(publicListener.port)
        #expect(try await httpGet(opsPort, "/readyz").0 == 200)
        // Other tests' listeners count into the same series: compare with what was there.
        let before = try await httpGet(opsPort, "/metrics").1

        // URL verification answers the challenge.
        let challenge = Array(#"{"token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#.utf8)
        do {
            let r = try await slackPost(port, "/slack/events", body: challenge, contentType: "application/json", secret: Self.secret)
            #expect(r                 == (200, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"), "\(r)")
        }

        // An event; its HTTP retry (same event id) is answered 200 and not written twice.
        do {
            let r = try await slackPost(port, "/slack/events", body: eventBody("Ev0INGRESS1"), contentType: "application/json",
                                    secret: Self.secret)
            #expect(r.0 == 200, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/events", body: eventBody("Ev0INGRESS1"), contentType: "application/json",
                                    secret: Self.secret, headers: ["X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"])
            #expect(r.0 == 200, "\(r)")
        }

        // A slash command: the command sink's JSON is the HTTP response.
        let command = Array("token=x&team_id=T0INGRESS&channel_id=C0OPS&user_id=U0HUMAN&command=%2Fdeploy&text=api+v2&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1&trigger_id=13345224609.738474920.8088930838d88f008e0".utf8)
        let (commandStatus, commandBody) = try await slackPost(port, "/slack/commands", body: command,
                                                               contentType: "application/x-www-form-urlencoded", secret: Self.secret)
        #expect(commandStatus == 200 && commandBody.contains(#""text":"deployed""#), "\(commandStatus) \(commandBody)")

        // A block_actions payload.
        let action = #"{"type":"block_actions","team":{"id":"T0INGRESS"},"user":{"id":"U0HUMAN"},"channel":{"id":"C0OPS"},"actions":[{"action_id":"approve","type":"button"}],"trigger_id":"1.2.3"}"#
        let form = FormEncoding.encode([("payload", action)])
        do {
            let r = try await slackPost(port, "/slack/actions", body: form, contentType: "application/x-www-form-urlencoded",
                                    secret: Self.secret)
            #expect(r.0 == 200, "\(r)")
        }

        // Refused before any sink: wrong secret, missing signature, stale, oversize, malformed.
        let bad = eventBody("Ev0BAD")
        do {
            let r = try await slackPost(port, "/slack/events", body: bad, contentType: "application/json", secret: "another-secret")
            #expect(r.0 == 401, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/events", body: bad, contentType: "application/json", secret: Self.secret,
                                    signature: "v0=" + String(repeating: "0", count: 64))
            #expect(r.0 == 401, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/events", body: bad, contentType: "application/json", secret: Self.secret, age: 360)
            #expect(r.0 == 401, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/events", body: eventBody("Ev0BIG", text: String(repeating: "x", count: 70_000)),
                                    contentType: "application/json", secret: Self.secret)
            #expect(r.0 == 413, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/events", body: Array(#"{"type":"event_callback","event":"#.utf8),
                                    contentType: "application/json", secret: Self.secret)
            #expect(r.0 == 400, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/events", body: Array(#"{"type":"event_callback"},"type":"x"}"#.utf8),
                                    contentType: "application/json", secret: Self.secret)
            #expect(r.0 == 400, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/commands", body: Array("text=%ZZ".utf8),
                                    contentType: "application/x-www-form-urlencoded", secret: Self.secret)
            #expect(r.0 == 400, "\(r)")
        }
        do {
            let r = try await slackPost(port, "/slack/nowhere", body: bad, contentType: "application/json", secret: Self.secret)
            #expect(r.0 == 404, "\(r)")
        }

        let lines = jsonLines(folder + "/events.jsonl")
        // The event once (its retry was a duplicate), the command (both routes match it), the action.
        #expect(lines.count == 3, "\(lines)")
        let slash = try #require(lines.first { $0["envelope_type"] as? String == "slash_commands" })
        #expect(slash["event_type"] as? String == "/deploy" && slash["channel"] as? String == "C0OPS" && slash["user"] as? String == "U0HUMAN")
        #expect((slash["payload"] as? [String: Any])?["text"] as? String == "api v2")
        #expect((slash["envelope_id"] as? String)?.hasPrefix("http-") == true)
        let event = try #require(lines.first { $0["envelope_type"] as? String == "events_api" })
        #expect(event["delivery"] as? String == "http" && event["event_id"] as? String == "Ev0INGRESS1")
        #expect(event["team"] as? String == "T0INGRESS" && event["channel"] as? String == "C0GENERAL" && event["event_type"] as? String == "message")
        #expect((event["payload"] as? [String: Any])?["event_id"] as? String == "Ev0INGRESS1")
        let interactive = try #require(lines.first { $0["envelope_type"] as? String == "interactive" })
        #expect(interactive["event_type"] as? String == "block_actions" && interactive["channel"] as? String == "C0OPS")
        let counts = daemon.runners[0].counters.snapshot
        #expect(counts.received == 4 && counts.acked == 4 && counts.duplicates == 1, "\(counts)")
        let metrics = try await httpGet(opsPort, "/metrics").1
        #expect(metrics.contains(#"sockeyed_ingress_requests_total{app="http-app",kind="events",outcome="bad_signature"} 2"#), "\(metrics)")
        #expect(metrics.contains(#"sockeyed_ingress_requests_total{app="http-app",kind="events",outcome="stale_timestamp"} 1"#))
        #expect(metrics.contains(#"sockeyed_ingress_requests_total{app="http-app",kind="events",outcome="too_large"} 1"#))
        // The listener's own count: refused before the body was read, or by the signature.
        func rejections(_ text: String, _ reason: String) -> Int {
            metricValue(text, #"sockeyed_listener_rejections_total{listener="public",reason="\#(reason)"}"#)
        }
        #expect(rejections(metrics, "unknown_path") - rejections(before, "unknown_path") == 1, "\(metrics)")
        #expect(rejections(metrics, "too_large") - rejections(before, "too_large") == 1)
        #expect(rejections(metrics, "unauthorized") - rejections(before, "unauthorized") == 3)

        // A restart (a reload that changes the app) keeps the ids taken: Slack's late retry of
        // the first event is still answered 200 and not written again.
        var changed = app
        changed.ingress.maxBodyBytes = 128 * 1024
        var reloaded = DaemonConfiguration(apps: [changed], sinks: config.sinks, operationsAddress: nil)
        reloaded.listeners = config.listeners
        let summary = try await daemon.reload(reloaded)
        #expect(summary.restarted == ["http-app"])
        #expect(await eventually { daemon.runners.first?.isReady == true })
        do {
            let r = try await slackPost(port, "/slack/events", body: eventBody("Ev0INGRESS1"), contentType: "application/json",
                                        secret: Self.secret, headers: ["X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"])
            #expect(r.0 == 200, "\(r)")
        }
        #expect(jsonLines(folder + "/events.jsonl").count == 3)
        #expect(daemon.runners.first?.counters.snapshot.duplicates == 1)
        await daemon.stop()
        try await running.value
    }

    @Test("the ingress is only on the public listener: the operations listener refuses Slack's requests, the public one serves nothing else")
    func ingressOnlyOnPublicListener() async throws {
        var app = AppSettings(name: "split-app", appToken: "")
        app.delivery = .http
        app.signingSecret = Self.secret
        app.routes = [Route(sinks: ["file"])]
        let folder = temporaryDirectory()
        let config = DaemonConfiguration(apps: [app], sinks: ["file": .file(path: folder + "/events.jsonl")], operationsAddress: nil)
        let metricsExport = sharedMetrics
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: metricsExport, logger: quietLogger)
        let publicListener = try PublicServer(address: "127.0.0.1:0", daemon: daemon, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service, publicListener.service]) }
        #expect(await eventually { operations.port != nil && publicListener.port != nil && daemon.runners.first?.isReady == true })
        let opsPort = try #require(operations.port)
        let port = try #require(publicListener.port)

        let signed = try await slackPost(opsPort, "/slack/events", body: eventBody("Ev0SPLIT1"), contentType: "application/json", secret: Self.secret)
        #expect(signed.0 == 405, "\(signed)")
        #expect(try await httpGet(port, "/metrics").0 == 404)
        #expect(try await httpGet(port, "/slack/events").0 == 405)
        let served = try await slackPost(port, "/slack/events", body: eventBody("Ev0SPLIT1"), contentType: "application/json", secret: Self.secret)
        #expect(served.0 == 200, "\(served)")
        #expect(await eventually { jsonLines(folder + "/events.jsonl").count == 1 })
        await daemon.stop()
        try await running.value
    }
}

/// The value of the series `series` (name and labels as written) in a Prometheus text
/// exposition, 0 when absent.
func metricValue(_ text: String, _ series: String) -> Int {
    for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
        return Int(Double(line.dropFirst(series.count + 1)) ?? 0)
    }
    return 0
}
