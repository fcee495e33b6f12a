import Foundation
import Testing
@testable import SockeyeSim

@Suite("apps.connections.open and auth.test")
struct WebAPITests {
    @Test("a Bearer xapp token gets a single-use ws URL with ticket and opaque app_id")
    func opensURL() throws {
        let h = try Harness()
        let r = try h.open()
        #expect(r.status == 200)
        #expect(r.json["ok"] as? Bool == true)
        let url = try #require(r.json["url"] as? String)
        #expect(url.hasPrefix("ws://127.0.0.1:\(h.port)/link/?ticket="))
        let ticket = try #require(url.components(separatedBy: "ticket=").last?.components(separatedBy: "&").first)
        #expect(UUID(uuidString: ticket) != nil)
        let appID = try #require(url.components(separatedBy: "app_id=").last)
        #expect(appID.count == 64 && appID.allSatisfy(\.isHexDigit))
        #expect(r.headers["x-oauth-scopes"]?.contains("connections:write") == true)
        #expect(r.headers["x-accepted-oauth-scopes"] == "connections:write")
    }

    @Test("token errors: form field → invalid_auth, xoxb → not_allowed_token_type, none → not_authed, unknown → invalid_auth")
    func tokenErrors() throws {
        let h = try Harness()
        let form = try TestHTTP.request(port: h.port, path: "/api/apps.connections.open",
                                        headers: ["Content-Type": "application/x-www-form-urlencoded"], body: "token=\(Harness.appToken)")
        #expect(form.status == 200 && form.json["error"] as? String == "invalid_auth")
        #expect(try h.open(token: "xoxb-sim-bot-token").json["error"] as? String == "not_allowed_token_type")
        #expect(try h.open(token: "xoxp-user").json["error"] as? String == "not_allowed_token_type")
        #expect(try h.open(token: "xapp-1-unknown").json["error"] as? String == "invalid_auth")
        let none = try TestHTTP.request(port: h.port, path: "/api/apps.connections.open")
        #expect(none.json["error"] as? String == "not_authed")
        #expect(none.json["ok"] as? Bool == false)
        let json = try TestHTTP.request(port: h.port, path: "/api/apps.connections.open",
                                        headers: ["Authorization": "Bearer \(Harness.appToken)", "Content-Type": "application/json"], body: "{}")
        #expect(json.json["ok"] as? Bool == true)
    }

    @Test("missing connections:write scope → missing_scope with needed/provided")
    func missingScope() throws {
        let h = try Harness { $0.apps[0].scopes = ["authorizations:read"] }
        let r = try h.open()
        #expect(r.json["error"] as? String == "missing_scope")
        #expect(r.json["needed"] as? String == "connections:write")
        #expect(r.json["provided"] as? String == "authorizations:read")
    }

    @Test("injected error modes: ratelimited is HTTP 429 with Retry-After, http_503, internal_error, token_revoked; then recovery")
    func errorModes() throws {
        let h = try Harness()
        _ = try TestHTTP.admin(h.port, "/admin/open-error", #"{"error":"ratelimited","remaining":1}"#)
        let limited = try h.open()
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] == "30")
        #expect(limited.json["error"] as? String == "ratelimited")
        #expect(try h.open().json["ok"] as? Bool == true)
        for code in ["internal_error", "token_revoked", "invalid_auth", "not_authed", "not_allowed_token_type"] {
            _ = try TestHTTP.admin(h.port, "/admin/open-error", #"{"error":"\#(code)","remaining":1}"#)
            let r = try h.open()
            #expect(r.status == 200 && r.json["error"] as? String == code)
        }
        _ = try TestHTTP.admin(h.port, "/admin/open-error", #"{"error":"http_503","remaining":1}"#)
        #expect(try h.open().status == 503)
    }

    @Test("rate limit per minute answers 429 with Retry-After")
    func rateLimit() throws {
        let h = try Harness { $0.openRateLimitPerMinute = 2 }
        #expect(try h.open().status == 200)
        #expect(try h.open().status == 200)
        let r = try h.open()
        #expect(r.status == 429)
        #expect(Int(r.headers["retry-after"] ?? "") ?? 0 > 0)
    }

    @Test("auth.test with a bot token returns team, user id and bot id")
    func authTest() throws {
        let h = try Harness()
        let r = try TestHTTP.request(port: h.port, path: "/api/auth.test", headers: ["Authorization": "Bearer xoxb-sim-bot-token"])
        #expect(r.json["ok"] as? Bool == true)
        #expect(r.json["user_id"] as? String == "U0SIMBOT1")
        #expect(r.json["bot_id"] as? String == "B0SIMBOT1")
        #expect(r.json["team_id"] as? String == "T0SIM0001")
        let bad = try TestHTTP.request(port: h.port, path: "/api/auth.test", headers: ["Authorization": "Bearer xoxb-nope"])
        #expect(bad.json["error"] as? String == "invalid_auth")
    }
}
