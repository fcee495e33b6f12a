import Foundation
import Testing
@testable import SockeyeSim

/// A second app in its own workspace.
let otherWorkspaceApp = SimConfig.App(appID: "A0SIMAPP02", appTokens: ["xapp-1-A0SIMAPP02-1-simsecret"], teamID: "T0SIM0002")

/// Built-in kinds of every envelope type plus the two fixtures.
let identityKinds = ["message", "app_mention", "reaction_added", "slash_command", "block_actions", "shortcut",
                     "view_submission", "member_joined_channel", "block_suggestion"]

/// Reads envelopes (acking them) until one arrives; fails on a timeout.
func nextEnvelope(_ ws: TestWebSocket, timeout: Double = 5) throws -> (text: String, envelope: [String: Any], payload: [String: Any]) {
    let f = try ws.next(containing: "envelope_id", timeout: timeout)
    let env = Harness.json(f.text)
    if let id = env["envelope_id"] as? String { ws.sendText(#"{"envelope_id":"\#(id)"}"#) }
    return (f.text, env, env["payload"] as? [String: Any] ?? [:])
}

/// Checks every identity field a payload of `kind` has against `app` and `team`.
func expectIdentity(_ kind: String, _ text: String, _ p: [String: Any], app: String, team: String, otherApp: String, otherTeam: String) {
    let expectsAppID = !["shortcut", "block_suggestion"].contains(kind)
    if expectsAppID { #expect(p["api_app_id"] as? String == app, "\(kind) api_app_id") }
    if let teamID = p["team_id"] { #expect(teamID as? String == team, "\(kind) team_id") }
    if let t = p["team"] as? [String: Any] { #expect(t["id"] as? String == team, "\(kind) team.id") }
    #expect(p["team_id"] != nil || p["team"] != nil, "\(kind) has a team")
    if let auth = (p["authorizations"] as? [[String: Any]])?.first { #expect(auth["team_id"] as? String == team, "\(kind) authorizations") }
    if let view = p["view"] as? [String: Any], view["app_id"] != nil { #expect(view["app_id"] as? String == app, "\(kind) view.app_id") }
    #expect(!text.contains(otherApp) && !text.contains(otherTeam), "\(kind) mentions the other app or team")
}

@Suite("Per-app payload identity; scenario and admin steps name an app")
struct AppIdentityTests {
    @Test("built-in and fixture payloads carry the api_app_id and team of the app they are delivered to")
    func payloadsCarryTheirApp() throws {
        let h = try Harness(fixtures: Harness.fixtures) { $0.apps.append(otherWorkspaceApp) }
        let (a, _) = try h.connect()
        let (b, _) = try h.connect(token: otherWorkspaceApp.appTokens[0])
        var eventIDs: Set<String> = []
        for kind in identityKinds {
            #expect(h.server.inject(kind: kind, app: 1))
            let got = try nextEnvelope(b)
            expectIdentity(kind, got.text, got.payload, app: "A0SIMAPP02", team: "T0SIM0002", otherApp: "A0SIMAPP01", otherTeam: "T0SIM0001")
            if let e = got.payload["event_id"] as? String { eventIDs.insert(e) }

            #expect(h.server.inject(kind: kind, app: 0))
            let mine = try nextEnvelope(a)
            expectIdentity(kind, mine.text, mine.payload, app: "A0SIMAPP01", team: "T0SIM0001", otherApp: "A0SIMAPP02", otherTeam: "T0SIM0002")
            if let e = mine.payload["event_id"] as? String { eventIDs.insert(e) }
            #expect(mine.envelope["accepts_response_payload"] as? Bool == got.envelope["accepts_response_payload"] as? Bool)
        }
        // Four event kinds, each delivered twice: every delivery has its own event id.
        #expect(eventIDs.count == 8)
        #expect(!h.server.inject(kind: "message", app: 2))
    }

    @Test("the load generator's kinds carry the loaded app's identity")
    func loadKindsCarryTheirApp() throws {
        let h = try Harness { $0.apps.append(otherWorkspaceApp) }
        let (b, _) = try h.connect(token: otherWorkspaceApp.appTokens[0])
        let kinds = ["app_mention", "slash_command", "view_submission", "block_actions"]
        #expect(h.server.startLoad(LoadSpec(window: 4, total: 8, kinds: kinds, app: 1)))
        for i in 0..<8 {
            let got = try nextEnvelope(b)
            expectIdentity(kinds[i % 4], got.text, got.payload, app: "A0SIMAPP02", team: "T0SIM0002", otherApp: "A0SIMAPP01", otherTeam: "T0SIM0001")
        }
        #expect(h.wait { $0.total.acked == 8 }.total.acked == 8)
    }

    @Test("scenario inject, disconnect and fault steps go to the app they name; an unknown app is a parse error")
    func scenarioStepsNameAnApp() throws {
        var base = SimConfig()
        base.apps.append(otherWorkspaceApp)
        let scenario = try Scenario.parse("""
        steps:
          - at: 0.1
            inject: { kind: app_mention, count: 2, app: 1 }
          - at: 0.2
            disconnect: { reason: warning, app: 1 }
          - at: 0.3
            fault: { kind: drop, app: 1 }
        """, base: base)
        #expect(throws: SimError.self) { _ = try Scenario.parse("steps: [{ at: 0, inject: { kind: message, app: 2 } }]", base: base) }
        #expect(throws: SimError.self) { _ = try Scenario.parse("steps: [{ at: 0, fault: { kind: drop, app: 2 } }]", base: base) }
        #expect(throws: SimError.self) { _ = try Scenario.parse("steps: [{ at: 0, disconnect: { reason: warning, app: 2 } }]", base: base) }

        let h = try Harness { $0 = scenario.config }
        let (a, _) = try h.connect()
        let (b, _) = try h.connect(token: otherWorkspaceApp.appTokens[0])
        let done = DispatchSemaphore(value: 0)
        let runner = UncheckedBox(value: h.server)
        Thread { runner.value.run(scenario); done.signal() }.start()
        for _ in 0..<2 { #expect(try nextEnvelope(b).payload["api_app_id"] as? String == "A0SIMAPP02") }
        #expect(Harness.json(try b.next().text)["reason"] as? String == "warning")
        #expect(throws: TestWebSocket.Failure.closed) { _ = try b.next(timeout: 3) }
        done.wait()
        // App 0's connection saw none of it and is still served.
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try a.next(timeout: 0.3) }
        h.inject("message")
        #expect(try nextEnvelope(a).payload["api_app_id"] as? String == "A0SIMAPP01")
    }

    @Test("admin disconnect and fault take an app; an unknown app index is refused")
    func adminNamesAnApp() throws {
        let h = try Harness { $0.apps.append(otherWorkspaceApp) }
        let (a, _) = try h.connect()
        let (b, _) = try h.connect(token: otherWorkspaceApp.appTokens[0])

        #expect(try TestHTTP.admin(h.port, "/admin/disconnect", #"{"reason":"warning","app":1}"#).json["ok"] as? Bool == true)
        #expect(Harness.json(try b.next().text)["reason"] as? String == "warning")
        #expect(try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"close","app":1}"#).json["ok"] as? Bool == true)
        let close = try b.next()
        #expect(close.opcode == 0x8 && TestWebSocket.closeCode(close) == 1000)
        #expect(try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"ghosts","count":2,"seconds":60,"app":1}"#).json["ok"] as? Bool == true)
        let list = try TestHTTP.request(port: h.port, method: "GET", path: "/admin/connections").json["connections"] as? [[String: Any]] ?? []
        #expect(list.filter { $0["state"] as? String == "ghost" }.map { $0["app"] as? Int } == [1, 1])
        #expect(h.server.sync { core, _ in core.connections(app: 0).count } == 1)

        for (path, body) in [("/admin/disconnect", #"{"reason":"warning","app":2}"#), ("/admin/fault", #"{"kind":"drop","app":2}"#),
                             ("/admin/inject", #"{"kind":"message","app":2}"#)] {
            #expect(try TestHTTP.admin(h.port, path, body).json["error"] as? String == "unknown_app", "\(path)")
        }
        // App 0 was never touched.
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try a.next(timeout: 0.3) }
        #expect(h.server.liveConnections(app: 0) == 1)
    }
}
