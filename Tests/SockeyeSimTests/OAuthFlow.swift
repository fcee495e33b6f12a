import Foundation
@testable import SockeyeSim

/// Drives the simulator's OAuth side over real HTTP the way an app and a browser do:
/// the authorize page, the decision, the code exchange, calls with the tokens.
struct OAuthFlow {
    static let clientID = "1111.2222"
    static let secret = "simclientsecret"
    static let redirect = "http://127.0.0.1:9/slack/oauth_redirect"

    let port: Int

    /// `name=value&…`, every value percent-encoded.
    static func form(_ items: [(String, String)]) -> String {
        items.map { "\($0.0)=\(RequestParams.encode($0.1))" }.joined(separator: "&")
    }

    /// The query items of a URL (decoded).
    static func query(_ url: String) -> [String: String] {
        var out: [String: String] = [:]
        for item in URLComponents(string: url)?.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }

    func get(_ path: String, _ items: [(String, String)]) throws -> TestHTTP.Response {
        try TestHTTP.request(port: port, method: "GET", path: path + "?" + Self.form(items))
    }

    func post(_ path: String, _ items: [(String, String)], headers: [String: String] = [:]) throws -> TestHTTP.Response {
        var h = headers
        h["Content-Type"] = "application/x-www-form-urlencoded"
        return try TestHTTP.request(port: port, path: path, headers: h, body: Self.form(items))
    }

    /// The authorize request's parameters.
    static func authorizeItems(scope: String = "chat:write,commands", userScope: String? = nil, redirect: String? = OAuthFlow.redirect,
                               state: String? = "st-1", clientID: String = OAuthFlow.clientID) -> [(String, String)] {
        var items = [("client_id", clientID), ("scope", scope)]
        if let userScope { items.append(("user_scope", userScope)) }
        if let redirect { items.append(("redirect_uri", redirect)) }
        if let state { items.append(("state", state)) }
        return items
    }

    /// Posts the consent form's decision; returns the response (a 302 when accepted).
    func decide(_ decision: String, workspace: String, _ items: [(String, String)]) throws -> TestHTTP.Response {
        try post("/oauth/v2/authorize", items + [("workspace", workspace), ("decision", decision)])
    }

    /// Approves an install into `workspace` and returns the code from the redirect.
    func code(workspace: String = "T0SIM0002", scope: String = "chat:write,commands", userScope: String? = nil,
              redirect: String? = OAuthFlow.redirect) throws -> String {
        let r = try decide("approve", workspace: workspace, Self.authorizeItems(scope: scope, userScope: userScope, redirect: redirect))
        guard r.status == 302, let location = r.headers["location"], let code = Self.query(location)["code"] else {
            throw TestWebSocket.Failure.handshake("no code: \(r.status) \(r.body.prefix(300))")
        }
        return code
    }

    /// `oauth.v2.access` with HTTP Basic credentials (or form ones with `basic: false`).
    func access(_ items: [(String, String)], basic: Bool = true, secret: String = OAuthFlow.secret) throws -> [String: Any] {
        if basic {
            let credentials = Data("\(Self.clientID):\(secret)".utf8).base64EncodedString()
            return try post("/api/oauth.v2.access", items, headers: ["Authorization": "Basic \(credentials)"]).json
        }
        return try post("/api/oauth.v2.access", items + [("client_id", Self.clientID), ("client_secret", secret)]).json
    }

    /// Installs into `workspace` and returns `oauth.v2.access`'s answer.
    func install(workspace: String = "T0SIM0002", scope: String = "chat:write,commands", userScope: String? = nil) throws -> [String: Any] {
        let code = try code(workspace: workspace, scope: scope, userScope: userScope)
        return try access([("code", code), ("redirect_uri", Self.redirect)])
    }

    /// A Web API call with a Bearer token.
    func call(_ method: String, token: String, _ items: [(String, String)] = []) throws -> TestHTTP.Response {
        try post("/api/\(method)", items, headers: ["Authorization": "Bearer \(token)"])
    }

    /// `auth.test`'s error, or `ok`.
    func authTest(_ token: String) throws -> String {
        let j = try call("auth.test", token: token).json
        return j["ok"] as? Bool == true ? "ok" : j["error"] as? String ?? "?"
    }
}

extension Harness {
    var oauth: OAuthFlow { OAuthFlow(port: port) }
    /// The first OAuth client's report.
    func oauthClient() -> OAuthClientReport? { server.oauthReport().clients.first }
}
