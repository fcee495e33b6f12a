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

/// POSTs `body` to the loopback port with exactly these Slack headers: (status, body).
func postWithHeaders(_ port: Int, _ path: String, body: [UInt8], timestamp: String, signature: String) async throws -> (Int, String) {
    var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    request.httpMethod = "POST"
    request.httpBody = Data(body)
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.setValue(timestamp, forHTTPHeaderField: "X-Slack-Request-Timestamp")
    request.setValue(signature, forHTTPHeaderField: "X-Slack-Signature")
    let (data, response) = try await URLSession.shared.data(for: request)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}

// In the ingress suite, which is serialized: its tests count the public listener's
// process-wide rejection metrics, which these requests add to.
extension IngressTests {
    @Test("through the real ingress: a timestamp of Int64.min is refused with 401 and the daemon still answers a signed request with 200")
    func ingressSurvivesExtremeTimestamps() async throws {
        let folder = temporaryDirectory()
        var app = AppSettings(name: "signature-app", appToken: "")
        app.delivery = .http
        app.signingSecret = Self.secret
        app.routes = [Route(sinks: ["file"])]
        let config = DaemonConfiguration(apps: [app], sinks: ["file": .file(path: folder + "/events.jsonl")], operationsAddress: nil)
        let metricsExport = sharedMetrics
        let daemon = try Daemon(configuration: config, logger: quietLogger)
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: metricsExport, logger: quietLogger)
        let publicListener = try PublicServer(address: "127.0.0.1:0", daemon: daemon, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service, publicListener.service]) }
        #expect(await eventually { operations.port != nil && publicListener.port != nil && daemon.runners.first?.isReady == true })
        let port = try #require(publicListener.port)

        let body = Array(#"{"token":"x","team_id":"T0SIG","api_app_id":"A0SIG","event":{"type":"message","user":"U0HUMAN","text":"hi","channel":"C0SIG","ts":"1.2"},"type":"event_callback","event_id":"Ev0SIGNED1","event_time":1700000000}"#.utf8)
        for stamp in ["-9223372036854775808", "9223372036854775807", "99999999999999999999999", "+1", ""] {
            let forged = SlackRequestSignature.sign(secret: Array(Self.secret.utf8), timestamp: stamp, body: body)
            for signature in [forged, "v0=bad", "anything"] {
                let (status, _) = try await postWithHeaders(port, "/slack/events", body: body, timestamp: stamp, signature: signature)
                #expect(status == 401, "timestamp \(stamp), signature \(signature): \(status)")
            }
        }
        let stamp = String(Int(Date().timeIntervalSince1970))
        let answer = try await postWithHeaders(port, "/slack/events", body: body, timestamp: stamp,
                                               signature: SlackRequestSignature.sign(secret: Array(Self.secret.utf8), timestamp: stamp, body: body))
        #expect(answer.0 == 200, "\(answer)")
        #expect(await eventually { jsonLines(folder + "/events.jsonl").contains { $0["event_id"] as? String == "Ev0SIGNED1" } })
        await daemon.stop()
        try await running.value
    }
}
