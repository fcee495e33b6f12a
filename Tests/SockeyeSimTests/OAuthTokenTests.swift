import Foundation
import Testing
@testable import SockeyeSim

@Suite("OAuth: token rotation, expiry, auth.revoke, calls per token")
struct OAuthTokenTests {
    /// A sim whose client rotates tokens every `lifetime` seconds.
    static func rotating(_ lifetime: Int = 60) throws -> Harness {
        try Harness { $0.apps[0].oauth?.tokenLifetimeSeconds = lifetime }
    }

    @Test("rotation: xoxe tokens with expires_in; a refresh grant returns a new refresh token, the old one is then invalid_refresh_token")
    func refreshGrant() throws {
        let h = try Self.rotating()
        let j = try h.oauth.install(userScope: "search:read")
        let access = try #require(j["access_token"] as? String)
        let refresh = try #require(j["refresh_token"] as? String)
        #expect(access.hasPrefix("xoxe.xoxb-1-"))
        #expect(refresh.hasPrefix("xoxe-1-"))
        #expect(j["expires_in"] as? Int == 60)
        let user = try #require(j["authed_user"] as? [String: Any])
        #expect((user["access_token"] as? String)?.hasPrefix("xoxe.xoxp-1-") == true)
        #expect((user["refresh_token"] as? String)?.hasPrefix("xoxe-1-") == true)
        #expect(user["expires_in"] as? Int == 60)

        let r = try h.oauth.access([("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(r["ok"] as? Bool == true)
        #expect(r["token_type"] as? String == "bot")
        #expect(r["expires_in"] as? Int == 60)
        #expect(r["bot_user_id"] as? String == j["bot_user_id"] as? String)
        #expect((r["team"] as? [String: Any])?["id"] as? String == "T0SIM0002")
        #expect(r["is_enterprise_install"] as? Bool == false)
        #expect(r["scope"] as? String == "chat:write,commands")
        let newAccess = try #require(r["access_token"] as? String)
        let newRefresh = try #require(r["refresh_token"] as? String)
        #expect(newAccess != access && newRefresh != refresh)
        #expect(newRefresh.hasPrefix("xoxe-1-"))

        let replay = try h.oauth.access([("grant_type", "refresh_token"), ("refresh_token", refresh)])
        #expect(replay["error"] as? String == "invalid_refresh_token")
        #expect(try h.oauth.access([("grant_type", "refresh_token"), ("refresh_token", "xoxe-1-nope")])["error"] as? String == "invalid_refresh_token")
        // The old access token works until it expires, as Slack's does; the new one too.
        #expect(try h.oauth.authTest(access) == "ok")
        #expect(try h.oauth.authTest(newAccess) == "ok")
        // The user's refresh token is its own.
        let userRefresh = try #require(user["refresh_token"] as? String)
        let ru = try h.oauth.access([("grant_type", "refresh_token"), ("refresh_token", userRefresh)])
        #expect(ru["token_type"] as? String == "user")
        #expect(ru["bot_user_id"] == nil)

        let c = try #require(h.oauthClient())
        #expect(c.accessCalls == ["authorization_code": 1, "refresh_token": 4])
        #expect(c.invalidRefreshToken == 2)
        #expect(c.installations.first?.refreshes == 2)
    }

    @Test("without rotation there is no refresh token: a refresh grant is invalid_refresh_token")
    func noRotation() throws {
        let h = try Harness()
        let j = try h.oauth.install()
        #expect(j["refresh_token"] == nil)
        #expect(try h.oauth.access([("grant_type", "refresh_token"), ("refresh_token", "xoxe-1-x")])["error"] as? String == "invalid_refresh_token")
    }

    @Test("an expired access token → token_expired (counted by method); its refresh still works")
    func expiredToken() throws {
        let h = try Self.rotating(60)
        let j = try h.oauth.install()
        let access = try #require(j["access_token"] as? String)
        let test = try h.oauth.call("auth.test", token: access)
        #expect(test.json["expires_in"] as? Int ?? 0 > 55)
        try h.server.advanceOAuthClock(by: 61)
        #expect(try h.oauth.authTest(access) == "token_expired")
        #expect(try h.oauth.call("chat.postMessage", token: access, [("channel", "C1"), ("text", "hi")]).json["error"] as? String == "token_expired")
        let c = try #require(h.oauthClient())
        #expect(c.expiredTokenCalls == ["auth.test": 1, "chat.postMessage": 1])
        #expect(c.installations.first?.botTokenExpiresIn ?? 0 < 0)
        let r = try h.oauth.access([("grant_type", "refresh_token"), ("refresh_token", try #require(j["refresh_token"] as? String))])
        #expect(try h.oauth.authTest(try #require(r["access_token"] as? String)) == "ok")
    }

    @Test("auth.revoke: test=1 revokes nothing; then revoked, auth.test → token_revoked; a never-issued token → invalid_auth")
    func authRevoke() throws {
        let h = try Harness()
        let j = try h.oauth.install(userScope: "search:read")
        let bot = try #require(j["access_token"] as? String)
        let trial = try h.oauth.call("auth.revoke", token: bot, [("test", "1")])
        #expect(trial.json["ok"] as? Bool == true && trial.json["revoked"] as? Bool == false)
        #expect(try h.oauth.authTest(bot) == "ok")
        let post = try h.oauth.call("chat.postMessage", token: bot, [("channel", "C0SIMCHAN"), ("text", "hello")])
        #expect(post.json["ok"] as? Bool == true)
        #expect((post.json["ts"] as? String)?.contains(".") == true)
        #expect((post.json["message"] as? [String: Any])?["bot_id"] as? String == h.server.installations().first?.botID)

        let revoked = try h.oauth.call("auth.revoke", token: bot)
        #expect(revoked.json["ok"] as? Bool == true && revoked.json["revoked"] as? Bool == true)
        #expect(try h.oauth.authTest(bot) == "token_revoked")
        #expect(try h.oauth.call("chat.postMessage", token: bot, [("channel", "C1"), ("text", "x")]).json["error"] as? String == "token_revoked")
        #expect(try h.oauth.call("auth.revoke", token: bot).json["error"] as? String == "token_revoked")
        #expect(try h.oauth.authTest("xoxb-1-2-neverissued") == "invalid_auth")
        let none = try TestHTTP.request(port: h.port, path: "/api/auth.test")
        #expect(none.json["error"] as? String == "not_authed")
        // The user token still works: the installation is not gone.
        let userToken = try #require((j["authed_user"] as? [String: Any])?["access_token"] as? String)
        #expect(try h.oauth.authTest(userToken) == "ok")

        let c = try #require(h.oauthClient())
        #expect(c.authRevokeCalls == 3)
        #expect(c.revocations == [OAuthRevocation(installation: "T0SIM0002", tokenType: "bot", test: true),
                                  OAuthRevocation(installation: "T0SIM0002", tokenType: "bot", test: false)])
        #expect(c.revokedTokenCalls == ["auth.test": 1, "chat.postMessage": 1, "auth.revoke": 1])
        let inst = try #require(c.installations.first)
        #expect(inst.botTokenRevoked == true && inst.userTokenRevoked == false && !inst.revoked)
        #expect(inst.calls["chat.postMessage"] == 1)
        #expect(h.server.oauthReport().unknownTokenCalls["auth.test"] == 1)

        // Revoking the last token uninstalls it.
        #expect(try h.oauth.call("auth.revoke", token: userToken).json["revoked"] as? Bool == true)
        let gone = try #require(h.server.installations().first)
        #expect(gone.revoked && gone.endedBy == "auth.revoke")
    }

    @Test("a reinstall without rotation hands back the same bot token; after an uninstall a new one, same bot user")
    func reinstall() throws {
        let h = try Harness()
        let first = try h.oauth.install()
        let again = try h.oauth.install()
        #expect(first["access_token"] as? String == again["access_token"] as? String)
        try h.server.uninstall("T0SIM0002")
        let third = try h.oauth.install()
        #expect(third["access_token"] as? String != first["access_token"] as? String)
        #expect(third["bot_user_id"] as? String == first["bot_user_id"] as? String)
        #expect(try h.oauth.authTest(try #require(first["access_token"] as? String)) == "token_revoked")
        #expect(try h.oauth.authTest(try #require(third["access_token"] as? String)) == "ok")
        let inst = try #require(h.server.installations().first)
        #expect(inst.installs == 3 && !inst.revoked && inst.revokedTokenCalls["auth.test"] == 1)
    }

    @Test("hostile input: malformed forms, huge values, missing fields, bad admin numbers; the sim keeps answering")
    func hostileInput() throws {
        let h = try Harness()
        let bodies = ["%", "%ZZ=%ZZ&&&==&=", "code=" + String(repeating: "A", count: 100_000), "grant_type=%00%ff&code=%E2%82",
                      String(repeating: "a=b&", count: 5000), "client_id=1111.2222&client_secret=simclientsecret&code"]
        for b in bodies {
            let r = try TestHTTP.request(port: h.port, path: "/api/oauth.v2.access",
                                         headers: ["Content-Type": "application/x-www-form-urlencoded"], body: b)
            #expect(r.status == 200 && r.json["ok"] as? Bool == false)
            let page = try TestHTTP.request(port: h.port, path: "/oauth/v2/authorize",
                                            headers: ["Content-Type": "application/x-www-form-urlencoded"], body: b)
            #expect(page.status == 400)
        }
        for json in [#"{"token": 5, "channel": [1], "text": {"a": 1}}"#, "[1,2", #"{"test": 1e308}"#] {
            let r = try TestHTTP.request(port: h.port, path: "/api/chat.postMessage",
                                         headers: ["Content-Type": "application/json", "Authorization": "Bearer xoxb-sim-bot-token"], body: json)
            #expect(r.status == 200)
        }
        // libwebsockets refuses a query with broken escapes itself (403); the decision alone answers 400.
        let weird = try TestHTTP.request(port: h.port, method: "GET", path: "/oauth/v2/authorize?client_id&scope=%&&=&state=%E2")
        #expect(weird.status == 403 || weird.status == 400)
        let oauth = OAuthState(config: SimConfig())
        for query in ["client_id&scope=%&&=&state=%E2", "client_id=1111.2222&scope=a&redirect_uri=%ZZ", "client_id=1111.2222&scope=a&redirect_uri=javascript:x",
                      "=&&&", String(repeating: "x=%", count: 10_000)] {
            let r = OAuthAuthorize.handle(HTTPRequest(method: "GET", path: OAuthAuthorize.path, query: query), oauth: oauth, now: 0)
            #expect(r.status == 400)
        }
        for body in [#"{"count": 1e300, "team": "T0SIM0001"}"#, #"{"count": -1, "team": "T0SIM0001"}"#, #"{"count": "x", "team": "T0SIM0001"}"#,
                     #"{"team": 7}"#, #"{"app": 99999999999999999999, "team": "T0SIM0001"}"#, #"{"app": -1, "team": "T0SIM0001"}"#] {
            let r = try TestHTTP.admin(h.port, "/admin/oauth/inject", body)
            #expect(r.json["ok"] as? Bool == false)
        }
        for body in [#"{"seconds": -5}"#, #"{"seconds": 1e300}"#, #"{"seconds": "soon"}"#, "{}"] {
            #expect(try TestHTTP.admin(h.port, "/admin/oauth/advance", body).json["error"] as? String == "invalid_arguments")
        }
        #expect(try TestHTTP.admin(h.port, "/admin/oauth/uninstall", #"{"installation":"T0SIM0001"}"#).json["error"] as? String == "not_installed")
        #expect(try TestHTTP.admin(h.port, "/admin/oauth/team-access-revoked", #"{"enterprise":"E0SIMORG1","team":"T0ORG0001"}"#).json["error"] as? String == "not_installed")
        // Still serving.
        #expect(try h.oauth.install()["ok"] as? Bool == true)
    }
}
