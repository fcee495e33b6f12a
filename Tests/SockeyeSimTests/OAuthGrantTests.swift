import Foundation
import Testing
@testable import SockeyeSim

@Suite("OAuth: authorize, the code grant and its errors")
struct OAuthGrantTests {
    @Test("the consent page, approve → 302 with code and state, oauth.v2.access, auth.test with the bot and user tokens")
    func codeGrantEndToEnd() throws {
        let h = try Harness()
        let flow = h.oauth
        let state = "a&b=c d/é"
        let items = OAuthFlow.authorizeItems(userScope: "search:read", state: state) + [("team", "T0SIM0002")]
        let page = try flow.get("/oauth/v2/authorize", items)
        #expect(page.status == 200)
        #expect(page.headers["content-type"]?.hasPrefix("text/html") == true)
        #expect(page.body.contains(#"<select id="workspace" name="workspace">"#))
        #expect(page.body.contains(#"<option value="T0SIM0002" selected>Sim Workspace Two</option>"#))
        #expect(page.body.contains(#"<option value="E0SIMORG1">Sim Org (whole organization)</option>"#))
        for team in ["T0SIM0001", "T0ORG0001", "T0ORG0002", "T0ORG0003"] { #expect(page.body.contains(#"value="\#(team)""#)) }
        #expect(page.body.contains(#"<button id="approve" type="submit" name="decision" value="approve">"#))
        #expect(page.body.contains(#"<button id="deny" type="submit" name="decision" value="deny">"#))
        #expect(page.body.contains(#"<form method="post" action="/oauth/v2/authorize">"#))
        #expect(page.body.contains(#"<input type="hidden" name="state" value="a&amp;b=c d/é">"#))
        #expect(page.body.contains(#"<input type="hidden" name="redirect_uri" value="\#(OAuthFlow.redirect)">"#))
        for external in ["<script", "<link", "src=", "@import"] { #expect(!page.body.contains(external)) }

        let approved = try flow.decide("approve", workspace: "T0SIM0002", items)
        #expect(approved.status == 302)
        let location = try #require(approved.headers["location"])
        #expect(location.hasPrefix(OAuthFlow.redirect + "?code="))
        #expect(location.hasSuffix("&state=a%26b%3Dc%20d%2F%C3%A9"))
        let q = OAuthFlow.query(location)
        #expect(q["state"] == state)
        let code = try #require(q["code"])
        #expect(code.count > 60)

        let j = try flow.access([("code", code), ("redirect_uri", OAuthFlow.redirect)], basic: false)
        #expect(j["ok"] as? Bool == true)
        #expect(j["app_id"] as? String == "A0SIMAPP01")
        #expect(j["token_type"] as? String == "bot")
        #expect(j["scope"] as? String == "chat:write,commands")
        #expect((j["team"] as? [String: Any])?["id"] as? String == "T0SIM0002")
        #expect((j["team"] as? [String: Any])?["name"] as? String == "Sim Workspace Two")
        #expect(j["enterprise"] is NSNull)
        #expect(j["is_enterprise_install"] as? Bool == false)
        #expect(j["refresh_token"] == nil && j["expires_in"] == nil)
        let bot = try #require(j["access_token"] as? String)
        #expect(bot.hasPrefix("xoxb-"))
        let botUser = try #require(j["bot_user_id"] as? String)
        let user = try #require(j["authed_user"] as? [String: Any])
        #expect(user["id"] as? String == "U0SIM0002")
        #expect(user["scope"] as? String == "search:read")
        #expect(user["token_type"] as? String == "user")
        let userToken = try #require(user["access_token"] as? String)
        #expect(userToken.hasPrefix("xoxp-"))

        let test = try flow.call("auth.test", token: bot)
        #expect(test.json["ok"] as? Bool == true)
        #expect(test.json["team_id"] as? String == "T0SIM0002")
        #expect(test.json["user_id"] as? String == botUser)
        #expect((test.json["bot_id"] as? String)?.hasPrefix("B") == true)
        #expect(test.json["is_enterprise_install"] as? Bool == false)
        #expect(test.headers["x-oauth-scopes"] == "chat:write,commands")
        let asUser = try flow.call("auth.test", token: userToken)
        #expect(asUser.json["user_id"] as? String == "U0SIM0002")
        #expect(asUser.json["bot_id"] == nil)
        #expect(asUser.headers["x-oauth-scopes"] == "search:read")
        // The configured default token still works beside the OAuth ones.
        #expect(try flow.authTest("xoxb-sim-bot-token") == "ok")

        let installs = h.server.installations()
        #expect(installs.count == 1)
        #expect(installs.first?.id == "T0SIM0002" && installs.first?.botUserID == botUser && installs.first?.revoked == false)
        #expect(installs.first?.calls["auth.test"] == 2)
        #expect(h.oauthClient()?.accessCalls == ["authorization_code": 1])
        #expect(h.oauthClient()?.approvals == 1 && h.oauthClient()?.authorizePages == 1)
    }

    @Test("without user_scope authed_user has only its id; two installs get different tokens and bots")
    func botOnlyAndDistinctTokens() throws {
        let h = try Harness()
        let a = try h.oauth.install(workspace: "T0SIM0001")
        let b = try h.oauth.install(workspace: "T0SIM0002")
        #expect((a["authed_user"] as? [String: Any])?.keys.sorted() == ["id"])
        #expect(a["access_token"] as? String != b["access_token"] as? String)
        #expect(a["bot_user_id"] as? String != b["bot_user_id"] as? String)
        #expect(h.server.installations().map(\.id) == ["T0SIM0001", "T0SIM0002"])
    }

    @Test("deny → 302 with error=access_denied and the state; no state given → none sent back")
    func deny() throws {
        let h = try Harness()
        let r = try h.oauth.decide("deny", workspace: "T0SIM0001", OAuthFlow.authorizeItems(state: "xyz"))
        #expect(r.status == 302)
        #expect(r.headers["location"] == OAuthFlow.redirect + "?error=access_denied&state=xyz")
        let none = try h.oauth.decide("approve", workspace: "T0SIM0001", OAuthFlow.authorizeItems(state: nil))
        let location = try #require(none.headers["location"])
        #expect(OAuthFlow.query(location)["code"] != nil)
        #expect(!location.contains("state="))
        #expect(h.oauthClient()?.denials == 1)
    }

    @Test("a replayed code → invalid_code; the first exchange stands")
    func replayedCode() throws {
        let h = try Harness()
        let code = try h.oauth.code()
        #expect(try h.oauth.access([("code", code), ("redirect_uri", OAuthFlow.redirect)])["ok"] as? Bool == true)
        let again = try h.oauth.access([("code", code), ("redirect_uri", OAuthFlow.redirect)])
        #expect(again["ok"] as? Bool == false)
        #expect(again["error"] as? String == "invalid_code")
        #expect(h.oauthClient()?.accessErrors == ["invalid_code": 1])
        #expect(h.server.installations().count == 1)
    }

    @Test("an expired code → invalid_code: the OAuth clock moved past 10 minutes, or a short code lifetime")
    func expiredCode() throws {
        let h = try Harness()
        let code = try h.oauth.code()
        let moved = try TestHTTP.admin(h.port, "/admin/oauth/advance", #"{"seconds":601}"#)
        #expect(moved.json["clock_offset_seconds"] as? Double == 601)
        #expect(try h.oauth.access([("code", code), ("redirect_uri", OAuthFlow.redirect)])["error"] as? String == "invalid_code")

        let short = try Harness { $0.oauthCodeLifetime = 0.2 }
        let code2 = try short.oauth.code()
        Thread.sleep(forTimeInterval: 0.4)
        #expect(try short.oauth.access([("code", code2), ("redirect_uri", OAuthFlow.redirect)])["error"] as? String == "invalid_code")
        // A code still inside its lifetime works.
        let fresh = try Harness()
        let code3 = try fresh.oauth.code()
        try fresh.server.advanceOAuthClock(by: 590)
        #expect(try fresh.oauth.access([("code", code3), ("redirect_uri", OAuthFlow.redirect)])["ok"] as? Bool == true)
    }

    @Test("client errors: wrong secret, unknown client, bad grant type, another redirect_uri, no code")
    func clientErrors() throws {
        let h = try Harness()
        let code = try h.oauth.code()
        #expect(try h.oauth.access([("code", code)], secret: "wrong")["error"] as? String == "bad_client_secret")
        #expect(try h.oauth.access([("code", code)], basic: false, secret: "wrong")["error"] as? String == "bad_client_secret")
        let unknown = try h.oauth.post("/api/oauth.v2.access", [("client_id", "9.9"), ("client_secret", "x"), ("code", code)])
        #expect(unknown.status == 200 && unknown.json["error"] as? String == "invalid_client_id")
        #expect(try h.oauth.access([("code", code), ("grant_type", "password")])["error"] as? String == "invalid_grant_type")
        #expect(try h.oauth.access([("code", code), ("redirect_uri", "http://127.0.0.1:9/other")])["error"] as? String == "bad_redirect_uri")
        #expect(try h.oauth.access([("code", code)])["error"] as? String == "bad_redirect_uri")
        #expect(try h.oauth.access([("redirect_uri", OAuthFlow.redirect)])["error"] as? String == "invalid_code")
        // None of those used the code up.
        #expect(try h.oauth.access([("code", code), ("redirect_uri", OAuthFlow.redirect)])["ok"] as? Bool == true)
        // A code whose authorize request had no redirect_uri takes any (or none) at access.
        let configured = try Harness { $0.apps[0].oauth?.redirectURLs = [OAuthFlow.redirect] }
        let bare = try configured.oauth.code(redirect: nil)
        #expect(try configured.oauth.access([("code", bare)])["ok"] as? Bool == true)
        let c = try #require(h.oauthClient())
        #expect(c.accessErrors["bad_client_secret"] == 2 && c.accessErrors["bad_redirect_uri"] == 2)
        #expect(h.server.oauthReport().unknownClientCalls == 1)
    }

    @Test("Basic auth (Slack's preferred) works for the code grant; form credentials too")
    func basicAuth() throws {
        let h = try Harness()
        let viaBasic = try h.oauth.access([("code", try h.oauth.code()), ("redirect_uri", OAuthFlow.redirect)], basic: true)
        #expect(viaBasic["ok"] as? Bool == true)
        let viaForm = try h.oauth.access([("code", try h.oauth.code()), ("redirect_uri", OAuthFlow.redirect)], basic: false)
        #expect(viaForm["ok"] as? Bool == true)
        let garbled = try h.oauth.post("/api/oauth.v2.access", [("code", "x")], headers: ["Authorization": "Basic %%%not-base64"])
        #expect(garbled.json["error"] as? String == "invalid_client_id")
    }

    @Test("the authorize page's errors: unknown client, a redirect URL the app does not allow, no scope, unknown workspace")
    func authorizeErrors() throws {
        let h = try Harness { $0.apps[0].oauth?.redirectURLs = [OAuthFlow.redirect] }
        let unknown = try h.oauth.get("/oauth/v2/authorize", OAuthFlow.authorizeItems(clientID: "0000.0000"))
        #expect(unknown.status == 400)
        #expect(unknown.body.contains(#"<code id="error">invalid_client_id</code>"#))
        let badRedirect = try h.oauth.get("/oauth/v2/authorize", OAuthFlow.authorizeItems(redirect: "https://evil.example/cb"))
        #expect(badRedirect.status == 400 && badRedirect.headers["location"] == nil)
        #expect(badRedirect.body.contains("bad_redirect_uri"))
        let postBad = try h.oauth.decide("approve", workspace: "T0SIM0001", OAuthFlow.authorizeItems(redirect: "https://evil.example/cb"))
        #expect(postBad.status == 400 && postBad.body.contains("bad_redirect_uri"))
        let noScope = try h.oauth.get("/oauth/v2/authorize", OAuthFlow.authorizeItems(scope: ""))
        #expect(noScope.status == 400 && noScope.body.contains("invalid_scope"))
        let noTeam = try h.oauth.decide("approve", workspace: "T0NOPE", OAuthFlow.authorizeItems())
        #expect(noTeam.status == 400 && noTeam.body.contains("invalid_team"))
        // Without redirect_uri the app's first configured URL is used.
        let r = try h.oauth.decide("approve", workspace: "T0SIM0001", OAuthFlow.authorizeItems(redirect: nil))
        #expect(r.headers["location"]?.hasPrefix(OAuthFlow.redirect + "?code=") == true)
        #expect(h.oauthClient()?.authorizeErrors["bad_redirect_uri"] == 2)
    }

    @Test("sim-only shortcut: GET with sim_decision and sim_workspace answers the same 302")
    func shortcut() throws {
        let h = try Harness()
        let r = try h.oauth.get("/oauth/v2/authorize", OAuthFlow.authorizeItems() + [("sim_decision", "approve"), ("sim_workspace", "T0SIM0002")])
        #expect(r.status == 302)
        let location = try #require(r.headers["location"])
        let code = try #require(OAuthFlow.query(location)["code"])
        let j = try h.oauth.access([("code", code), ("redirect_uri", OAuthFlow.redirect)])
        #expect((j["team"] as? [String: Any])?["id"] as? String == "T0SIM0002")
        let denied = try h.oauth.get("/oauth/v2/authorize", OAuthFlow.authorizeItems() + [("sim_decision", "deny")])
        #expect(denied.headers["location"]?.contains("error=access_denied") == true)
    }
}
