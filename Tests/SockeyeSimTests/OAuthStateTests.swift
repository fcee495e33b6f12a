import Foundation
import Testing
@testable import SockeyeSim

/// The OAuth decisions without any socket: requests and the time in, responses out.
@Suite("OAuth decisions, sans-IO, with injected time")
struct OAuthStateTests {
    static func access(_ oauth: OAuthState, _ form: String, now: Double) -> [String: Any] {
        let r = OAuthAccess.handle(HTTPRequest(method: "POST", path: "/api/oauth.v2.access", contentType: "application/x-www-form-urlencoded",
                                               body: Array((form + "&client_id=1111.2222&client_secret=simclientsecret").utf8)),
                                   oauth: oauth, now: now)
        return (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
    }

    static func code(_ oauth: OAuthState, now: Double) -> String? {
        let q = "client_id=1111.2222&scope=chat%3Awrite&redirect_uri=http%3A%2F%2Fh%2Fcb&sim_decision=approve&sim_workspace=T0SIM0001"
        let r = OAuthAuthorize.handle(HTTPRequest(method: "GET", path: OAuthAuthorize.path, query: q), oauth: oauth, now: now)
        guard let location = r.headers.first(where: { $0.0 == "Location" })?.1 else { return nil }
        return OAuthFlow.query(location)["code"]
    }

    @Test("a code lives exactly 600 s of the time passed in")
    func codeLifetime() throws {
        let oauth = OAuthState(config: SimConfig())
        let a = try #require(Self.code(oauth, now: 1000))
        #expect(Self.access(oauth, "code=\(a)&redirect_uri=http%3A%2F%2Fh%2Fcb", now: 1599.9)["ok"] as? Bool == true)
        let b = try #require(Self.code(oauth, now: 1000))
        #expect(Self.access(oauth, "code=\(b)&redirect_uri=http%3A%2F%2Fh%2Fcb", now: 1600)["error"] as? String == "invalid_code")
    }

    @Test("tokens expire at their lifetime; a refresh token is single use; the mint is injectable")
    func rotation() throws {
        var config = SimConfig()
        config.apps[0].oauth?.tokenLifetimeSeconds = 100
        var n: UInt64 = 0
        let oauth = OAuthState(config: config, mint: OAuthMint { n &+= 0x9E37_79B9_7F4A_7C15; return n })
        let j = Self.access(oauth, "code=\(try #require(Self.code(oauth, now: 0)))&redirect_uri=http%3A%2F%2Fh%2Fcb", now: 0)
        let token = try #require(j["access_token"] as? String)
        let refresh = try #require(j["refresh_token"] as? String)
        guard case .valid = oauth.status(of: token, now: 99.9) else { Issue.record("not valid at 99.9 s"); return }
        guard case .expired = oauth.status(of: token, now: 100) else { Issue.record("not expired at 100 s"); return }
        let r = Self.access(oauth, "grant_type=refresh_token&refresh_token=\(RequestParams.encode(refresh))", now: 150)
        let next = try #require(r["access_token"] as? String)
        guard case .valid = oauth.status(of: next, now: 249) else { Issue.record("refreshed token not valid"); return }
        #expect(Self.access(oauth, "grant_type=refresh_token&refresh_token=\(RequestParams.encode(refresh))", now: 151)["error"] as? String
                == "invalid_refresh_token")
        #expect(RequestParams.encode("a b&c=d/é~") == "a%20b%26c%3Dd%2F%C3%A9~")
        #expect(RequestParams.urlEncoded("a=1+2&b=%ZZ&a=3&=x&c") == ["a": "1 2", "b": "%ZZ", "c": ""])
    }
}
