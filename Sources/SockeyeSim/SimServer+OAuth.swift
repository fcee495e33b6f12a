import Foundation

/// The OAuth side's admin endpoints and Swift API (the decisions are `OAuthState`,
/// `SimCore+Installations`; this only parses, range-checks and answers). JSON bodies; `app`
/// is the app's index (default 0). Errors: `{"ok":false,"error":…,"message":…}`.
///
/// - `GET /admin/oauth/installations[?app=0]` → `{"ok":true,"installations":[InstallationReport…]}`
///   (every app's without `app`).
/// - `GET /admin/oauth/stats` → `{"ok":true,"oauth":OAuthReport}`.
/// - `POST /admin/oauth/inject` `{"team":"T0SIM0002","enterprise":null,"kind":"message","count":1,"app":0}`
///   → `{"ok":true,"installation":"T0SIM0002","count":1}`.
/// - `POST /admin/oauth/uninstall` `{"installation":"T0SIM0002","app":0}` → `{"ok":true,"installation":"T0SIM0002"}`.
/// - `POST /admin/oauth/team-access-revoked` `{"enterprise":"E0SIMORG1","team":"T0ORG0002","app":0}`
///   → `{"ok":true,"installation":"E0SIMORG1","team":"T0ORG0002"}`.
/// - `POST /admin/oauth/advance` `{"seconds":601}` → `{"ok":true,"clock_offset_seconds":601}`:
///   moves the OAuth clock (code and token expiry) ahead.
extension SimServer {
    /// Longest the OAuth clock may be moved ahead in total: ten years.
    static let maxOAuthClockOffset: Double = 315_360_000

    func oauthAdmin(_ r: HTTPRequest, now: Double) -> WebAPIResponse {
        let body = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
        func string(_ k: String) -> String? { (body[k] as? String).map { String($0.prefix(200)) } }
        let appValue: Int?
        if let a = body["app"] { guard let i = a as? Int else { return adminError(.init(code: "invalid_arguments", message: "app must be an integer")) }; appValue = i }
        else { appValue = Self.queryInt(r.query, "app") }
        let app = appValue ?? 0
        do throws(OAuthAdminError) {
            switch r.path {
            case "/admin/oauth/installations":
                let list = oauthReport(core: core, now: now).clients.filter { appValue == nil || $0.app == appValue }.flatMap(\.installations)
                return encoded(InstallationsAnswer(installations: list))
            case "/admin/oauth/stats":
                return encoded(StatsAnswer(oauth: oauthReport(core: core, now: now)))
            case "/admin/oauth/inject":
                guard let team = string("team") else { throw OAuthAdminError(code: "invalid_arguments", message: "team is required") }
                let count = try Self.count(body["count"])
                let id = try core.injectForTeam(team, enterpriseID: string("enterprise"), kind: string("kind") ?? "message", count: count,
                                                app: app, now: now)
                return .json(200, ["ok": true, "installation": id, "count": count])
            case "/admin/oauth/uninstall":
                guard let id = string("installation") ?? string("team") ?? string("enterprise") else {
                    throw OAuthAdminError(code: "invalid_arguments", message: "installation is required")
                }
                try core.uninstall(id, app: app, now: now)
                return .json(200, ["ok": true, "installation": id])
            case "/admin/oauth/team-access-revoked":
                guard let e = string("enterprise"), let t = string("team") else {
                    throw OAuthAdminError(code: "invalid_arguments", message: "enterprise and team are required")
                }
                try core.revokeTeamAccess(enterpriseID: e, teamID: t, app: app, now: now)
                return .json(200, ["ok": true, "installation": e, "team": t])
            case "/admin/oauth/advance":
                let offset = try advanceOAuthClock(core: core, seconds: body["seconds"])
                return .json(200, ["ok": true, "clock_offset_seconds": offset])
            default:
                return .error("unknown_method")
            }
        } catch {
            return adminError(error)
        }
    }

    /// A `count` from a request: absent → 1, else an integer in 1 … 100 000.
    static func count(_ value: Any?) throws(OAuthAdminError) -> Int {
        guard let value else { return 1 }
        guard let n = value as? Int, (1...SimCore.maxInstallationInject).contains(n) else {
            throw OAuthAdminError(code: "invalid_arguments", message: "count must be an integer in 1 … \(SimCore.maxInstallationInject)")
        }
        return n
    }

    /// Moves the OAuth clock ahead by `seconds` (a finite number ≥ 0; the total at most ten
    /// years); returns the new offset.
    func advanceOAuthClock(core: SimCore, seconds: Any?) throws(OAuthAdminError) -> Double {
        guard let s = (seconds as? Double) ?? (seconds as? Int).map(Double.init), s.isFinite, s >= 0,
              core.oauth.clockOffset + s <= Self.maxOAuthClockOffset
        else {
            throw OAuthAdminError(code: "invalid_arguments", message: "seconds must be a number ≥ 0, the total at most \(Int(Self.maxOAuthClockOffset))")
        }
        core.oauth.clockOffset += s
        return core.oauth.clockOffset
    }

    func oauthReport(core: SimCore, now: Double) -> OAuthReport { core.oauth.report(now: now) }

    func adminError(_ e: OAuthAdminError) -> WebAPIResponse { .error(e.code, extra: ["message": e.message]) }

    struct InstallationsAnswer: Encodable { var ok = true; var installations: [InstallationReport] }
    struct StatsAnswer: Encodable { var ok = true; var oauth: OAuthReport }

    func encoded(_ value: some Encodable) -> WebAPIResponse {
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? enc.encode(value)) ?? Data(#"{"ok":false,"error":"internal_error"}"#.utf8)
        return WebAPIResponse(status: 200, headers: [], body: Array(data))
    }

    // MARK: Swift API (from any thread)

    /// `http(s)://127.0.0.1:PORT/oauth/v2/authorize`: where an app sends its installers.
    public var oauthAuthorizeURL: String { "\(options.tls ? "https" : "http")://127.0.0.1:\(port)\(OAuthAuthorize.path)" }

    /// The OAuth side's counters and installations.
    public func oauthReport() -> OAuthReport {
        sync { core, now in core.oauth.report(now: now) }
    }

    /// The installations of app `app` (every app's when nil), in the order they were made.
    public func installations(app: Int? = nil) -> [InstallationReport] {
        oauthReport().clients.filter { app == nil || $0.app == app }.flatMap(\.installations)
    }

    /// Delivers `count` payloads of `kind` (or `bot_message`) from workspace `team` to the
    /// installation of app `app` covering it; returns the installation's id. Throws
    /// `unknown_app`, `unknown_team`, `not_installed`, `unknown_kind`, `invalid_arguments`.
    @discardableResult
    public func injectForTeam(_ team: String, enterprise: String? = nil, kind: String = "message", count: Int = 1,
                              app: Int = 0) throws(OAuthAdminError) -> String {
        let result: Result<String, OAuthAdminError> = sync { core, now in
            do throws(OAuthAdminError) {
                return .success(try core.injectForTeam(team, enterpriseID: enterprise, kind: kind, count: count, app: app, now: now))
            } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Uninstalls installation `installation` (team or enterprise id) of app `app`: revokes
    /// its tokens, sends `tokens_revoked` and `app_uninstalled`. Throws `not_installed`,
    /// `unknown_app`.
    public func uninstall(_ installation: String, app: Int = 0) throws(OAuthAdminError) {
        let result: Result<Void, OAuthAdminError> = sync { core, now in
            do throws(OAuthAdminError) { try core.uninstall(installation, app: app, now: now); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Takes workspace `team` out of the org-wide install of `enterprise` and sends
    /// `team_access_revoked`. Throws `unknown_enterprise`, `not_installed`, `unknown_team`.
    public func revokeTeamAccess(enterprise: String, team: String, app: Int = 0) throws(OAuthAdminError) {
        let result: Result<Void, OAuthAdminError> = sync { core, now in
            do throws(OAuthAdminError) { try core.revokeTeamAccess(enterpriseID: enterprise, teamID: team, app: app, now: now); return .success(()) }
            catch { return .failure(error) }
        }
        try result.get()
    }

    /// Moves the OAuth clock `seconds` ahead (codes and tokens expire sooner); returns the
    /// total offset. Throws `invalid_arguments` for a negative or non-finite value, or a
    /// total over ten years.
    @discardableResult
    public func advanceOAuthClock(by seconds: Double) throws(OAuthAdminError) -> Double {
        let result: Result<Double, OAuthAdminError> = sync { [self] core, _ in
            do throws(OAuthAdminError) { return .success(try advanceOAuthClock(core: core, seconds: seconds)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
