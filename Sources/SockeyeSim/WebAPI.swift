import Foundation

/// A parsed HTTP request as the transport hands it over.
public struct HTTPRequest: Sendable {
    public var method: String
    /// Path without the query string.
    public var path: String
    /// The query string (from the transport: its decoded arguments joined with `&`).
    public var query: String
    /// The query's `name=value` arguments, each already percent-decoded, as the transport
    /// split them (so an encoded `&` or `=` inside a value stays inside it); nil: parse
    /// `query` as an encoded query string.
    public var queryFragments: [String]?
    public var authorization: String?
    public var contentType: String?
    public var body: [UInt8]
    public init(method: String, path: String, query: String = "", queryFragments: [String]? = nil, authorization: String? = nil,
                contentType: String? = nil, body: [UInt8] = []) {
        self.method = method; self.path = path; self.query = query; self.queryFragments = queryFragments
        self.authorization = authorization; self.contentType = contentType; self.body = body
    }
}

/// A response of the simulator's Web API or admin API, to write.
public struct WebAPIResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var contentType = "application/json; charset=utf-8"

    /// A whole HTML page (`text/html; charset=utf-8`).
    static func html(_ status: Int, _ page: String) -> WebAPIResponse {
        WebAPIResponse(status: status, headers: [("Cache-Control", "no-store")], body: Array(page.utf8), contentType: "text/html; charset=utf-8")
    }

    /// `302 Found` to `location`, with a short HTML body naming it.
    static func redirect(_ location: String) -> WebAPIResponse {
        let page = "<!doctype html><title>Redirecting</title><p>Redirecting to <a href=\"\(HTMLText.escape(location))\">\(HTMLText.escape(location))</a>"
        return WebAPIResponse(status: 302, headers: [("Location", location), ("Cache-Control", "no-store")], body: Array(page.utf8),
                              contentType: "text/html; charset=utf-8")
    }

    static func json(_ status: Int = 200, _ object: Any, headers: [(String, String)] = []) -> WebAPIResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return WebAPIResponse(status: status, headers: headers, body: Array(data))
    }
    static func error(_ code: String, status: Int = 200, extra: [String: Any] = [:], headers: [(String, String)] = []) -> WebAPIResponse {
        var o: [String: Any] = ["ok": false, "error": code]
        o.merge(extra) { a, _ in a }
        return json(status, o, headers: headers)
    }
}

/// An injected failure of `apps.connections.open`.
public struct OpenErrorMode: Codable, Sendable, Equatable {
    /// A Slack error code (`invalid_auth`, `ratelimited`, `internal_error`, …) or `http_<status>`.
    public var error: String
    /// How many calls fail; nil: every call until cleared.
    public var remaining: Int?
    public init(error: String, remaining: Int? = nil) { self.error = error; self.remaining = remaining }
}

/// Slack's Web API methods the simulator serves: `apps.connections.open` and `auth.test`
/// here; `oauth.v2.access` (`OAuthAccess`), `auth.revoke` and `chat.postMessage`
/// (`TokenWebAPI`) beside.
public enum WebAPI {
    /// Where the listener is, to build connection URLs.
    public struct Listener: Sendable {
        public var port: Int
        public var tls: Bool
        public init(port: Int, tls: Bool) { self.port = port; self.tls = tls }
    }

    static func form(_ body: [UInt8]) -> [String: String] {
        var out: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1).map { String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0) }
            if let k = kv.first { out[k] = kv.count > 1 ? kv[1] : "" }
        }
        return out
    }

    /// The token in the body (form field or JSON key), which Slack now refuses.
    static func bodyToken(_ r: HTTPRequest) -> String? {
        if (r.contentType ?? "").contains("json") {
            let o = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any]
            return o?["token"] as? String
        }
        return form(r.body)["token"]
    }

    static func bearer(_ r: HTTPRequest) -> String? {
        guard let a = r.authorization?.trimmingCharacters(in: .whitespaces), a.lowercased().hasPrefix("bearer ") else { return nil }
        let t = a.dropFirst(7).trimmingCharacters(in: .whitespaces)
        return t.isEmpty ? nil : t
    }

    /// `POST /api/apps.connections.open`.
    public static func connectionsOpen(_ r: HTTPRequest, core: SimCore, listener: Listener, now: Double) -> WebAPIResponse {
        if r.method != "POST" { return .error("insecure_request") }
        if var mode = core.openErrorMode {
            if let n = mode.remaining {
                mode.remaining = n - 1
                core.openErrorMode = n - 1 > 0 ? mode : nil
            }
            return injected(mode.error, core: core)
        }
        guard let token = bearer(r) else {
            return bodyToken(r) != nil ? .error("invalid_auth") : .error("not_authed")
        }
        if token.hasPrefix("xoxb-") || token.hasPrefix("xoxp-") || token.hasPrefix("xoxe.") { return .error("not_allowed_token_type") }
        guard let app = core.config.apps.firstIndex(where: { $0.appTokens.contains(token) }) else { return .error("invalid_auth") }
        let scopes = core.config.apps[app].scopes
        let scopeHeaders = [("X-OAuth-Scopes", scopes.joined(separator: ",")), ("X-Accepted-OAuth-Scopes", "connections:write")]
        guard scopes.contains("connections:write") else {
            return .error("missing_scope", extra: ["needed": "connections:write", "provided": scopes.joined(separator: ",")], headers: scopeHeaders)
        }
        if let limited = core.rateLimit(app: app, now: now) {
            core.apps[app].openErrors += 1
            return limited
        }
        core.apps[app].openURLs += 1
        let url = core.issueURL(app: app, port: listener.port, tls: listener.tls, now: now)
        return .json(200, ["ok": true, "url": url], headers: scopeHeaders)
    }

    static func injected(_ code: String, core: SimCore) -> WebAPIResponse {
        if code == "ratelimited" {
            return .error("ratelimited", status: 429, headers: [("Retry-After", "\(core.config.retryAfterSeconds)")])
        }
        if code.hasPrefix("http_"), let status = Int(code.dropFirst(5)) {
            return WebAPIResponse(status: status, headers: [], body: Array("<html><body>\(status) upstream error</body></html>".utf8), contentType: "text/html")
        }
        if code == "missing_scope" {
            return .error("missing_scope", extra: ["needed": "connections:write", "provided": "authorizations:read"],
                          headers: [("X-OAuth-Scopes", "authorizations:read"), ("X-Accepted-OAuth-Scopes", "connections:write")])
        }
        return .error(code)
    }

    /// `POST /api/auth.test` for bot and user tokens: the configuration's and OAuth-issued
    /// ones (`TokenWebAPI.authTest`).
    public static func authTest(_ r: HTTPRequest, core: SimCore, now: Double) -> WebAPIResponse {
        TokenWebAPI.authTest(r, core: core, now: now)
    }
}

extension SimCore {
    /// Sliding one-minute window per app; nil when the call is allowed.
    func rateLimit(app: Int, now: Double) -> WebAPIResponse? {
        guard config.openRateLimitPerMinute > 0 else { return nil }
        let a = apps[app]
        while let first = a.openCalls.first, now - first >= 60 { a.openCalls.removeFirst() }
        if a.openCalls.count >= config.openRateLimitPerMinute {
            let retry = max(1, Int((60 - (now - a.openCalls.first!)).rounded(.up)))
            return .error("ratelimited", status: 429, headers: [("Retry-After", "\(retry)")])
        }
        a.openCalls.append(now)
        return nil
    }
}
