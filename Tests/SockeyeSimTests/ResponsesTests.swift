import Foundation
import Testing
@testable import SockeyeSim

@Suite("Responses recorded from both modes; injectable payloads with fixed content")
struct ResponsesTests {
    @Test("GET /admin/responses lists socket ack payloads and HTTP 2xx reply bodies, newest last, with kind, type and delivery")
    func recordsBothModes() throws {
        // Interactions answer with JSON, slash commands with plain text, events with nothing.
        let app = TestRequestURL(keepAlive: true) { _, r in
            guard signatureVerifies(r) else { return (401, [:], "", 0) }
            if r.body.hasPrefix("payload=") { return (200, ["Content-Type": "application/json"], #"{"response_action":"clear"}"#, 0) }
            if r.body.contains("command=") { return (200, [:], "deploying…", 0) }
            return (200, [:], "", 0)
        }
        defer { app.stop() }
        let h = try Harness()
        let (ws, _) = try h.connect()
        try admin(h.port, "/admin/inject", ["kind": "view_submission"])
        try admin(h.port, "/admin/inject", ["kind": "app_mention"])
        for _ in 0..<2 {
            let envelope = Harness.json(try ws.next(containing: "envelope_id").text)
            let id = envelope["envelope_id"] as? String ?? ""
            if envelope["type"] as? String == "interactive" {
                ws.sendText(#"{"envelope_id":"\#(id)","payload":{"response_action":"errors","errors":{"block-1":"Too short"}}}"#)
            } else {
                ws.sendText(#"{"envelope_id":"\#(id)"}"#)
            }
        }
        #expect(h.wait { $0.total.acked == 2 }.total.acked == 2)
        try admin(h.port, "/admin/delivery", ["mode": "http", "request_url": "http://127.0.0.1:\(app.port)/slack", "signing_secret": HTTPModeTests.secret])
        try admin(h.port, "/admin/inject", ["kind": "block_actions"])
        #expect(try eventually { (try admin(h.port, "/admin/responses")["responses"] as? [Any])?.count == 2 })
        try admin(h.port, "/admin/inject", ["kind": "slash_command", "command": "/ship"])
        try admin(h.port, "/admin/inject", ["kind": "message"])
        #expect(try eventually { (try admin(h.port, "/admin/acked-events")["count"] as? Int) == 2 })
        #expect(try eventually { (try admin(h.port, "/admin/responses")["responses"] as? [Any])?.count == 3 })
        let list = try admin(h.port, "/admin/responses")["responses"] as? [[String: Any]] ?? []
        #expect(list.count == 3)
        let socket = try #require(list.first)
        #expect(socket["kind"] as? String == "interactive" && socket["type"] as? String == "view_submission")
        #expect(socket["delivery"] as? String == "socket" && (socket["envelope_id"] as? String)?.count == 36)
        #expect(((socket["payload"] as? [String: Any])?["errors"] as? [String: Any])?["block-1"] as? String == "Too short")
        let action = list[1]
        #expect(action["kind"] as? String == "interactive" && action["type"] as? String == "block_actions")
        #expect(action["delivery"] as? String == "http" && action["envelope_id"] == nil)
        #expect((action["payload"] as? [String: Any])?["response_action"] as? String == "clear")
        let command = list[2]
        #expect(command["kind"] as? String == "slash_commands" && command["type"] as? String == "/ship")
        #expect(command["text"] as? String == "deploying…" && command["payload"] == nil)
    }

    @Test("the response log keeps the last 1 000 entries")
    func capacity() {
        var log = ResponseLog()
        for i in 0..<1_005 {
            log.append(ResponseLog.Entry(type: .slashCommands, label: "/c", delivery: .http, envelopeID: nil, body: Array("\(i)".utf8)))
        }
        #expect(log.entries.count == 1_000)
        #expect(log.json.first?["payload"] as? Int == 5 && log.json.last?["payload"] as? Int == 1_004)
    }

    @Test("inject overrides: slash_command's command, block_actions' action_id, view_submission's callback_id; message and app_mention exist")
    func overrides() throws {
        let app = verifyingApp()
        defer { app.stop() }
        let h = try Harness()
        let (ws, _) = try h.connect()
        try admin(h.port, "/admin/inject", ["kind": "slash_command", "command": "/ship"])
        try admin(h.port, "/admin/inject", ["kind": "block_actions", "action_id": "approve_v2"])
        try admin(h.port, "/admin/inject", ["kind": "view_submission", "callback_id": "deploy-modal"])
        try admin(h.port, "/admin/inject", ["kind": "message"])
        try admin(h.port, "/admin/inject", ["kind": "app_mention"])
        var payloads: [[String: Any]] = []
        for _ in 0..<5 {
            let envelope = Harness.json(try ws.next(containing: "envelope_id").text)
            ws.sendText(#"{"envelope_id":"\#(envelope["envelope_id"] as? String ?? "")"}"#)
            payloads.append(envelope["payload"] as? [String: Any] ?? [:])
        }
        #expect(payloads[0]["command"] as? String == "/ship" && payloads[0]["trigger_id"] != nil && payloads[0]["response_url"] != nil)
        let actions = payloads[1]["actions"] as? [[String: Any]] ?? []
        #expect(payloads[1]["type"] as? String == "block_actions" && actions.first?["action_id"] as? String == "approve_v2")
        #expect(actions.first?["type"] as? String == "button" && payloads[1]["container"] != nil && payloads[1]["api_app_id"] as? String == "A0SIMAPP01")
        let view = payloads[2]["view"] as? [String: Any] ?? [:]
        #expect(payloads[2]["type"] as? String == "view_submission" && view["callback_id"] as? String == "deploy-modal" && view["state"] != nil)
        #expect((payloads[3]["event"] as? [String: Any])?["type"] as? String == "message")
        #expect((payloads[4]["event"] as? [String: Any])?["type"] as? String == "app_mention")
        #expect(Set(payloads[3...].compactMap { $0["event_id"] as? String }).count == 2)

        // The same overrides over HTTP, in Slack's encodings.
        try admin(h.port, "/admin/delivery", ["mode": "http", "request_url": "http://127.0.0.1:\(app.port)/", "signing_secret": HTTPModeTests.secret])
        try admin(h.port, "/admin/inject", ["kind": "slash_command", "command": "/ship"])
        try admin(h.port, "/admin/inject", ["kind": "block_actions", "action_id": "approve_v2"])
        let reqs = app.wait(for: 2)
        #expect(reqs.count == 2 && reqs.allSatisfy(signatureVerifies))
        #expect(reqs.contains { WebAPI.form(Array($0.body.utf8))["command"] == "/ship" })
        let form = try #require(reqs.first { $0.body.hasPrefix("payload=") })
        let interaction = Harness.json(WebAPI.form(Array(form.body.utf8))["payload"] ?? "")
        #expect((interaction["actions"] as? [[String: Any]])?.first?["action_id"] as? String == "approve_v2")
        #expect(try admin(h.port, "/admin/inject", ["kind": "nope"])["error"] as? String == "unknown_kind")
    }
}
