import Foundation
import Testing
@testable import SockeyeSim

/// Calls an admin endpoint of the sim on `port` and returns the JSON reply.
@discardableResult
func admin(_ port: Int, _ path: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
    let text = try body.map { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) } ?? ""
    return try TestHTTP.request(port: port, method: body == nil ? "GET" : "POST", path: path,
                                headers: ["Content-Type": "application/json"], body: text).json
}

/// A Request URL that checks every signature (401 when it does not verify) and acks.
func verifyingApp(keepAlive: Bool = true, reply: String = "") -> TestRequestURL {
    TestRequestURL(keepAlive: keepAlive) { _, r in signatureVerifies(r) ? (200, [:], reply, 0) : (401, [:], "bad signature", 0) }
}

/// Polls `condition` (bounded); returns whether it came true.
func eventually(timeout: Double = 10, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try condition()
}

@Suite("Per-app delivery mode, switched at run time (POST /admin/delivery)")
struct DeliveryModeTests {
    @Test("switching to http mid-load redelivers the unacked socket events over HTTP as retries; nothing is lost; acked-events lists both modes")
    func switchMidLoad() throws {
        let app = verifyingApp()
        defer { app.stop() }
        let h = try Harness { $0.ackDeadline = 5; $0.retryDelays = [0, 0.05, 0.05] }
        let (ws, _) = try h.connect()
        try admin(h.port, "/admin/load", ["window": 20, "total": 200, "kinds": ["message"]])
        // Ack the first 50 envelopes; the 20 the window then has in flight stay unacked.
        var ackedOverSocket: Set<String> = [], unacked: Set<String> = []
        for index in 0..<70 {
            let envelope = Harness.json(try ws.next(containing: "envelope_id", timeout: 5).text)
            let event = (envelope["payload"] as? [String: Any])?["event_id"] as? String ?? "?"
            if index < 50 {
                ws.sendText(#"{"envelope_id":"\#(envelope["envelope_id"] as? String ?? "")"}"#)
                ackedOverSocket.insert(event)
            } else {
                unacked.insert(event)
            }
        }
        let switched = try admin(h.port, "/admin/delivery", ["app": 0, "mode": "http", "request_url": "http://127.0.0.1:\(app.port)/slack/events",
                                                              "signing_secret": HTTPModeTests.secret])
        #expect(switched["ok"] as? Bool == true && switched["mode"] as? String == "http")
        #expect(try admin(h.port, "/admin/delivery?app=0")["mode"] as? String == "http")
        #expect(eventually { h.server.loadDone() })

        let reqs = app.received
        #expect(reqs.allSatisfy(signatureVerifies))
        let retried = reqs.filter { $0.headers["x-slack-retry-num"] != nil }
        #expect(Set(retried.compactMap(eventID)) == unacked)
        #expect(retried.allSatisfy { $0.headers["x-slack-retry-num"] == "1" && $0.headers["x-slack-retry-reason"] == "http_timeout" })
        let overHTTP = Set(reqs.compactMap(eventID))
        #expect(overHTTP.isDisjoint(with: ackedOverSocket))
        #expect(ackedOverSocket.count + overHTTP.count == 200)
        let listed = try admin(h.port, "/admin/acked-events")["event_ids"] as? [String] ?? []
        #expect(listed.count == 200 && Set(listed) == ackedOverSocket.union(overHTTP))
        // Nothing more arrives over the socket once the app is in HTTP mode.
        #expect(throws: (any Error).self) { _ = try ws.next(containing: "envelope_id", timeout: 0.3) }
        let r = h.server.report()
        #expect(r.lost == 0, "\(r.verdict)")
    }

    @Test("switching back to socket: later payloads go over the socket again, HTTP's queued ones are handed back")
    func switchBack() throws {
        // Slow replies keep payloads queued in HTTP delivery when the app switches back.
        let app = TestRequestURL(keepAlive: true) { _, _ in (200, [:], "", 0.3) }
        defer { app.stop() }
        let h = try Harness { $0.httpConnections = 1 }
        let (ws, _) = try h.connect()
        try admin(h.port, "/admin/delivery", ["mode": "http", "request_url": "http://127.0.0.1:\(app.port)/", "signing_secret": HTTPModeTests.secret])
        try admin(h.port, "/admin/inject", ["kind": "app_mention", "count": 4])
        _ = app.wait(for: 1)
        let back = try admin(h.port, "/admin/delivery", ["mode": "socket"])
        #expect(back["mode"] as? String == "socket" && back["request_url"] as? String == "http://127.0.0.1:\(app.port)/")
        try admin(h.port, "/admin/inject", ["kind": "app_mention", "count": 2])
        var overSocket: [String] = []
        while let frame = try? ws.next(containing: "envelope_id", timeout: 1) {
            let envelope = Harness.json(frame.text)
            ws.sendText(#"{"envelope_id":"\#(envelope["envelope_id"] as? String ?? "")"}"#)
            overSocket.append((envelope["payload"] as? [String: Any])?["event_id"] as? String ?? "?")
        }
        Thread.sleep(forTimeInterval: 0.5)
        let overHTTP = app.received.compactMap(eventID)
        #expect(overSocket.count >= 2 && overHTTP.count >= 1)
        #expect(Set(overSocket).isDisjoint(with: Set(overHTTP)) && overSocket.count + overHTTP.count == 6)
        #expect(try eventually { (try admin(h.port, "/admin/acked-events")["count"] as? Int) == 6 })
    }

    @Test("modes are per app: app 1 over HTTP with its own URLs and secret, app 0 over its socket; /admin/load follows the mode")
    func perApp() throws {
        let events = verifyingApp(), commands = verifyingApp(reply: #"{"text":"deployed"}"#)
        defer { events.stop(); commands.stop() }
        let h = try Harness { $0.apps.append(otherWorkspaceApp) }
        let (ws, _) = try h.connect()
        #expect(try admin(h.port, "/admin/delivery", ["app": 1, "mode": "http"])["error"] as? String == "no_request_url")
        #expect(try admin(h.port, "/admin/delivery", ["app": 2, "mode": "http"])["error"] as? String == "unknown_app")
        let set = try admin(h.port, "/admin/delivery", ["app": 1, "mode": "http", "request_url": "http://127.0.0.1:\(events.port)/slack/events",
                                                          "commands_url": "http://127.0.0.1:\(commands.port)/slack/commands",
                                                          "signing_secret": HTTPModeTests.secret])
        #expect(set["actions_url"] as? String == "http://127.0.0.1:\(events.port)/slack/events")
        #expect(try admin(h.port, "/admin/delivery?app=0")["mode"] as? String == "socket")
        try admin(h.port, "/admin/inject", ["kind": "app_mention", "app": 0])
        try admin(h.port, "/admin/inject", ["kind": "app_mention", "app": 1])
        let first = Harness.json(try ws.next(containing: "envelope_id").text)
        #expect((first["payload"] as? [String: Any])?["api_app_id"] as? String == "A0SIMAPP01")
        ws.sendText(#"{"envelope_id":"\#(first["envelope_id"] as? String ?? "")"}"#)
        #expect(Harness.json(try #require(events.wait(for: 1).first).body)["api_app_id"] as? String == "A0SIMAPP02")

        #expect(try admin(h.port, "/admin/load", ["app": 1, "window": 4, "total": 40, "kinds": ["app_mention", "slash_command"]])["ok"] as? Bool == true)
        let r = finishedReport(h.server)
        #expect(r.total.acked == 42 && r.http?.acked == 41 && r.latencyMs.count == 42)
        #expect(r.saturated != nil && r.envelopesPerSecond > 0)
        #expect(events.received.count == 21 && commands.received.count == 20)
        #expect((events.received + commands.received).allSatisfy(signatureVerifies))
        #expect(commands.received.allSatisfy { WebAPI.form(Array($0.body.utf8))["api_app_id"] == "A0SIMAPP02" })
        #expect((try admin(h.port, "/admin/acked-events")["count"] as? Int) == 22)
    }
}
