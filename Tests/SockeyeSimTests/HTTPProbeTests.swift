import Foundation
import SockeyeSlackSignature
import Testing
@testable import SockeyeSim

/// A strict ingress stand-in: 401 for a missing, wrong or stale (±5 min) signature, 413
/// over 1 MiB, 400 for a body that does not parse, the challenge for url_verification.
func strictIngress(_ r: TestRequestURL.Request) -> (Int, [String: String], String, Double) {
    guard let ts = r.headers["x-slack-request-timestamp"], let sig = r.headers["x-slack-signature"] else { return (401, [:], "missing signature", 0) }
    guard abs((Int(ts) ?? 0) - Int(Date().timeIntervalSince1970)) <= 300 else { return (401, [:], "stale timestamp", 0) }
    guard SlackRequestSignature.sign(secret: Array(HTTPModeTests.secret.utf8), timestamp: ts, body: Array(r.body.utf8)) == sig else { return (401, [:], "bad signature", 0) }
    guard r.body.utf8.count <= 1 << 20 else { return (413, [:], "too large", 0) }
    if r.headers["content-type"] == "application/x-www-form-urlencoded" {
        let broken = r.body.split(separator: "&").contains { $0.removingPercentEncoding == nil }
        return broken ? (400, [:], "malformed form", 0) : (200, [:], "", 0)
    }
    guard let o = (try? JSONSerialization.jsonObject(with: Data(r.body.utf8))) as? [String: Any] else { return (400, [:], "malformed json", 0) }
    if o["type"] as? String == "url_verification" { return (200, [:], o["challenge"] as? String ?? "", 0) }
    return (200, [:], "ok", 0)
}

@Suite("Hostile and odd requests to a Request URL (POST /admin/http-probe)")
struct HTTPProbeTests {
    @Test("each probe kind sends the request it describes and reports the app's statuses and bodies")
    func probes() throws {
        let events = TestRequestURL { _, r in strictIngress(r) }
        let commands = TestRequestURL { _, r in strictIngress(r) }
        defer { events.stop(); commands.stop() }
        let h = try Harness()
        #expect(try admin(h.port, "/admin/http-probe", ["kind": "bad_signature"])["error"] as? String == "no_request_url")
        // Probes need only the URLs: the app may stay in socket mode.
        try admin(h.port, "/admin/delivery", ["mode": "http", "request_url": "http://127.0.0.1:\(events.port)/slack/events",
                                              "commands_url": "http://127.0.0.1:\(commands.port)/slack/commands", "signing_secret": HTTPModeTests.secret])
        try admin(h.port, "/admin/delivery", ["mode": "socket"])
        func probe(_ kind: String, count: Int = 1) throws -> (statuses: [Int], bodies: [String], reply: [String: Any]) {
            let reply = try admin(h.port, "/admin/http-probe", ["app": 0, "kind": kind, "count": count])
            #expect(reply["ok"] as? Bool == true, "\(kind): \(reply)")
            return (reply["statuses"] as? [Int] ?? [], reply["bodies"] as? [String] ?? [], reply)
        }
        let now = Int(Date().timeIntervalSince1970)
        func last() -> TestRequestURL.Request? { events.received.last }
        func timestamp(_ r: TestRequestURL.Request?) -> Int { Int(r?.headers["x-slack-request-timestamp"] ?? "") ?? 0 }

        #expect(try probe("bad_signature", count: 2).statuses == [401, 401])
        let badlySigned = try #require(last())
        #expect(events.received.count == 2 && !signatureVerifies(badlySigned))
        #expect(Harness.json(badlySigned.body)["type"] as? String == "event_callback")

        #expect(try probe("missing_signature").bodies == ["missing signature"])
        #expect(last()?.headers["x-slack-signature"] == nil && last()?.headers["x-slack-request-timestamp"] != nil)

        #expect(try probe("stale_timestamp").bodies == ["stale timestamp"])
        #expect(abs(timestamp(last()) - (now - 360)) <= 5)
        #expect(try probe("future_timestamp").statuses == [401])
        #expect(abs(timestamp(last()) - (now + 360)) <= 5)

        let before = events.received.count
        #expect(try probe("replay").statuses == [200, 200])
        let pair = Array(events.received[before...])
        #expect(pair.count == 2 && pair[0].body == pair[1].body && pair[0].headers == pair[1].headers && signatureVerifies(pair[0]))
        #expect(pair[0].connection != pair[1].connection)

        #expect(try probe("oversize").statuses == [413])
        let oversize = try #require(last())
        #expect(oversize.body.utf8.count == 2 << 20 && signatureVerifies(oversize))
        #expect((Harness.json(oversize.body)["event_id"] as? String)?.hasPrefix("Ev") == true)

        #expect(try probe("malformed_json").bodies == ["malformed json"])
        #expect(last()?.headers["content-type"] == "application/json")

        #expect(try probe("malformed_form").bodies == ["malformed form"])
        #expect(commands.received.count == 1 && commands.received[0].headers["content-type"] == "application/x-www-form-urlencoded")

        let start = Date()
        #expect(try probe("slow_body").statuses == [200])
        #expect(Date().timeIntervalSince(start) >= 1.9)
        #expect(Harness.json(try #require(last()).body)["type"] as? String == "event_callback")

        let verification = try probe("url_verification")
        let challenge = try #require(verification.reply["challenge"] as? String)
        #expect(verification.statuses == [200] && verification.bodies == [challenge] && !challenge.isEmpty)
        #expect(Harness.json(try #require(last()).body)["challenge"] as? String == challenge)

        #expect(try admin(h.port, "/admin/http-probe", ["kind": "nope"])["error"] as? String == "unknown_probe")
        #expect(events.received.count == 11)
    }

    @Test("a probe of an app that does not answer reports status 0 and why")
    func unreachable() throws {
        let h = try Harness()
        try admin(h.port, "/admin/delivery", ["mode": "http", "request_url": "http://127.0.0.1:1/", "signing_secret": "s"])
        let reply = try admin(h.port, "/admin/http-probe", ["kind": "replay"])
        #expect(reply["statuses"] as? [Int] == [0, 0])
        #expect((reply["bodies"] as? [String])?.allSatisfy { $0.hasPrefix("error:") } == true)
    }
}
