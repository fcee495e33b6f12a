import Foundation
import Testing
@testable import SockeyeSim

/// Reads envelopes (acking each) until one whose inner event (or payload) type is `type`.
func nextPayload(_ ws: TestWebSocket, innerType type: String, timeout: Double = 5) throws -> [String: Any] {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        let got = try nextEnvelope(ws, timeout: max(0.05, deadline.timeIntervalSinceNow))
        let inner = (got.payload["event"] as? [String: Any])?["type"] as? String ?? got.payload["type"] as? String
        if inner == type { return got.payload }
    }
    throw TestWebSocket.Failure.timeout
}

/// The single authorization of an event payload.
func authorization(_ p: [String: Any]) -> [String: Any] { (p["authorizations"] as? [[String: Any]])?.first ?? [:] }

@Suite("OAuth: events per installation, org-wide installs, uninstall and revocation events")
struct OAuthEventsTests {
    @Test("events for a workspace carry its team, the installation's bot in authorizations, and a bot's own message")
    func eventsPerInstallation() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let j = try h.oauth.install(workspace: "T0SIM0002")
        let botUser = try #require(j["bot_user_id"] as? String)
        let botID = try #require(h.server.installations().first?.botID)
        #expect(try h.server.injectForTeam("T0SIM0002", kind: "message") == "T0SIM0002")
        let m = try nextPayload(ws, innerType: "message")
        #expect(m["team_id"] as? String == "T0SIM0002")
        #expect(m["enterprise_id"] is NSNull && m["context_enterprise_id"] is NSNull)
        #expect(m["context_team_id"] as? String == "T0SIM0002")
        #expect(m["is_ext_shared_channel"] as? Bool == false)
        #expect(m["api_app_id"] as? String == "A0SIMAPP01")
        let a = authorization(m)
        #expect(a["team_id"] as? String == "T0SIM0002" && a["user_id"] as? String == botUser)
        #expect(a["is_bot"] as? Bool == true && a["is_enterprise_install"] as? Bool == false && a["enterprise_id"] is NSNull)
        let event = try #require(m["event"] as? [String: Any])
        #expect(event["user"] as? String == "U0SIM0002" && event["bot_id"] == nil)

        let admin = try TestHTTP.admin(h.port, "/admin/oauth/inject", #"{"team":"T0SIM0002","kind":"bot_message","count":2}"#)
        #expect(admin.json["ok"] as? Bool == true && admin.json["count"] as? Int == 2)
        var ids: Set<String> = []
        for _ in 0..<2 {
            let own = try nextPayload(ws, innerType: "message")
            let e = try #require(own["event"] as? [String: Any])
            #expect(e["user"] as? String == botUser && e["bot_id"] as? String == botID)
            ids.insert(own["event_id"] as? String ?? "")
        }
        #expect(ids.count == 2)

        try h.server.injectForTeam("T0SIM0002", kind: "slash_command")
        let command = try nextEnvelope(ws).payload
        #expect(command["team_id"] as? String == "T0SIM0002" && command["team_domain"] as? String == "sim-workspace-two")
        #expect(command["is_enterprise_install"] as? String == "false" && command["enterprise_id"] == nil)
        #expect(command["user_id"] as? String == "U0SIM0002")
        try h.server.injectForTeam("T0SIM0002", kind: "block_actions")
        let action = try nextEnvelope(ws).payload
        #expect((action["team"] as? [String: Any])?["id"] as? String == "T0SIM0002")
        #expect((action["user"] as? [String: Any])?["team_id"] as? String == "T0SIM0002")
        #expect(action["enterprise"] is NSNull && action["is_enterprise_install"] as? Bool == false)

        #expect(throws: OAuthAdminError.self) { try h.server.injectForTeam("T0SIM0001") }
        #expect(throws: OAuthAdminError.self) { try h.server.injectForTeam("T0SIM0002", kind: "no_such_kind") }
        let missing = try TestHTTP.admin(h.port, "/admin/oauth/inject", #"{"team":"T0SIM0001"}"#)
        #expect(missing.json["error"] as? String == "not_installed")
    }

    @Test("an org-wide install covers the organization's three workspaces; team_access_revoked takes one out")
    func orgWideInstall() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let j = try h.oauth.install(workspace: "E0SIMORG1")
        #expect(j["team"] is NSNull)
        #expect((j["enterprise"] as? [String: Any])?["id"] as? String == "E0SIMORG1")
        #expect((j["enterprise"] as? [String: Any])?["name"] as? String == "Sim Org")
        #expect(j["is_enterprise_install"] as? Bool == true)
        let botUser = try #require(j["bot_user_id"] as? String)
        let test = try h.oauth.call("auth.test", token: try #require(j["access_token"] as? String)).json
        #expect(test["enterprise_id"] as? String == "E0SIMORG1" && test["is_enterprise_install"] as? Bool == true)

        for team in ["T0ORG0001", "T0ORG0002", "T0ORG0003"] {
            #expect(try h.server.injectForTeam(team, enterprise: "E0SIMORG1") == "E0SIMORG1")
            let p = try nextPayload(ws, innerType: "message")
            #expect(p["team_id"] as? String == team && p["enterprise_id"] as? String == "E0SIMORG1")
            #expect(p["context_team_id"] as? String == team && p["context_enterprise_id"] as? String == "E0SIMORG1")
            let a = authorization(p)
            #expect(a["team_id"] as? String == team && a["enterprise_id"] as? String == "E0SIMORG1")
            #expect(a["user_id"] as? String == botUser && a["is_enterprise_install"] as? Bool == true)
        }
        #expect(throws: OAuthAdminError.self) { try h.server.injectForTeam("T0SIM0001") }
        try h.server.injectForTeam("T0ORG0003", kind: "shortcut")
        let shortcut = try nextEnvelope(ws).payload
        let team = try #require(shortcut["team"] as? [String: Any])
        #expect(team["id"] as? String == "T0ORG0003" && team["enterprise_id"] as? String == "E0SIMORG1")
        #expect((shortcut["enterprise"] as? [String: Any])?["id"] as? String == "E0SIMORG1")
        #expect(shortcut["is_enterprise_install"] as? Bool == true)

        let r = try TestHTTP.admin(h.port, "/admin/oauth/team-access-revoked", #"{"enterprise":"E0SIMORG1","team":"T0ORG0002"}"#)
        #expect(r.json["ok"] as? Bool == true)
        let revoked = try nextPayload(ws, innerType: "team_access_revoked")
        #expect((revoked["event"] as? [String: Any])?["team_ids"] as? [String] == ["T0ORG0002"])
        #expect(revoked["team_id"] is NSNull && revoked["enterprise_id"] as? String == "E0SIMORG1")
        #expect(authorization(revoked)["is_enterprise_install"] as? Bool == true)
        do {
            try h.server.injectForTeam("T0ORG0002")
            Issue.record("a removed workspace still got an event")
        } catch { #expect(error.code == "not_installed") }
        #expect(try h.server.injectForTeam("T0ORG0001") == "E0SIMORG1")
        let inst = try #require(h.server.installations().first)
        #expect(inst.isEnterpriseInstall && inst.teamID == nil && inst.coveredTeamIDs == ["T0ORG0001", "T0ORG0003"])
        #expect(inst.removedTeamIDs == ["T0ORG0002"])
    }

    @Test("uninstall sends tokens_revoked and app_uninstalled over Socket Mode; its tokens stop working")
    func uninstall() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let j = try h.oauth.install(workspace: "T0SIM0002", userScope: "search:read")
        let bot = try #require(j["access_token"] as? String)
        let botUser = try #require(j["bot_user_id"] as? String)
        let r = try TestHTTP.admin(h.port, "/admin/oauth/uninstall", #"{"installation":"T0SIM0002"}"#)
        #expect(r.json["ok"] as? Bool == true)
        let revoked = try nextPayload(ws, innerType: "tokens_revoked")
        let tokens = try #require((revoked["event"] as? [String: Any])?["tokens"] as? [String: Any])
        #expect(tokens["bot"] as? [String] == [botUser])
        #expect(tokens["oauth"] as? [String] == ["U0SIM0002"])
        #expect(revoked["team_id"] as? String == "T0SIM0002")
        #expect(authorization(revoked)["user_id"] as? String == botUser)
        let gone = try nextPayload(ws, innerType: "app_uninstalled")
        #expect((gone["event"] as? [String: Any])?.keys.sorted() == ["type"])
        #expect(gone["team_id"] as? String == "T0SIM0002" && gone["api_app_id"] as? String == "A0SIMAPP01")
        #expect(gone["type"] as? String == "event_callback" && (gone["event_id"] as? String)?.hasPrefix("Ev") == true)

        #expect(try h.oauth.authTest(bot) == "token_revoked")
        let inst = try #require(h.server.installations().first)
        #expect(inst.revoked && inst.endedBy == "uninstall" && inst.coveredTeamIDs.isEmpty)
        #expect(inst.revokedTokenCalls == ["auth.test": 1])
        #expect(throws: OAuthAdminError.self) { try h.server.injectForTeam("T0SIM0002") }
        #expect(throws: OAuthAdminError.self) { try h.server.uninstall("T0SIM0002") }
        let listed = try TestHTTP.request(port: h.port, method: "GET", path: "/admin/oauth/installations?app=0")
        let rows = try #require(listed.json["installations"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["revoked"] as? Bool == true && rows[0]["id"] as? String == "T0SIM0002")
        #expect(!listed.body.contains(bot))
        let stats = try TestHTTP.request(port: h.port, method: "GET", path: "/admin/stats")
        #expect(!stats.body.contains(bot) && stats.body.contains("revokedTokenCalls"))
    }

    @Test("an org-wide uninstall's events are the organization's: team_id null, enterprise set")
    func orgUninstall() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        _ = try h.oauth.install(workspace: "E0SIMORG1")
        try h.server.uninstall("E0SIMORG1")
        let gone = try nextPayload(ws, innerType: "app_uninstalled")
        #expect(gone["team_id"] is NSNull && gone["enterprise_id"] as? String == "E0SIMORG1")
        #expect(authorization(gone)["is_enterprise_install"] as? Bool == true)
    }
}
