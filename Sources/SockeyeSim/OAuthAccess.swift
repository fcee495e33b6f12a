import Foundation

/// `POST /api/oauth.v2.access`: exchanges an authorization code, or (token rotation) a
/// refresh token, for tokens. Decisions only: a request and the time in, a response out.
///
/// Client credentials come as HTTP Basic (`Authorization: Basic base64(id:secret)`, which
/// Slack prefers) or as `client_id` / `client_secret` parameters (query, form or JSON
/// body). Errors are Slack's, HTTP 200 `{"ok":false,"error":…}`: `invalid_client_id`,
/// `bad_client_secret`, `invalid_grant_type`, `invalid_code` (unknown, used, expired or
/// another client's), `bad_redirect_uri` (not the authorize request's), and
/// `invalid_refresh_token` (unknown, used, revoked, or rotation off).
enum OAuthAccess {
    static func handle(_ r: HTTPRequest, oauth: OAuthState, now: Double) -> WebAPIResponse {
        let p = RequestParams.all(r)
        let basic = RequestParams.basic(r)
        let clientID = basic?.id ?? p["client_id"]
        let secret = basic?.secret ?? p["client_secret"]
        guard let clientID, let client = oauth.client(id: clientID), let settings = oauth.oauthClient(client) else {
            oauth.unknownClientCalls += 1
            return .error("invalid_client_id")
        }
        let grant = p["grant_type"].flatMap { $0.isEmpty ? nil : $0 } ?? "authorization_code"
        oauth.counters[client].accessCalls[String(grant.prefix(40)), default: 0] += 1
        func fail(_ code: String) -> WebAPIResponse {
            oauth.counters[client].accessErrors[code, default: 0] += 1
            return .error(code)
        }
        guard let secret, constantTimeEqual(secret, settings.clientSecret) else { return fail("bad_client_secret") }
        switch grant {
        case "authorization_code":
            guard let code = p["code"], !code.isEmpty else { return fail("invalid_code") }
            let pending: OAuthState.PendingCode
            do throws(OAuthState.CodeRefusal) {
                pending = try oauth.takeCode(code, client: client, redirectURI: p["redirect_uri"], now: now)
            } catch {
                return fail(error == .badRedirectURI ? "bad_redirect_uri" : "invalid_code")
            }
            return .json(200, installed(oauth.install(pending, now: now), oauth: oauth), headers: [("Cache-Control", "no-store")])
        case "refresh_token":
            do throws(OAuthState.RefreshRefused) {
                let (inst, bot, g) = try oauth.refresh(p["refresh_token"] ?? "", client: client, now: now)
                return .json(200, refreshed(inst, bot: bot, g, oauth: oauth), headers: [("Cache-Control", "no-store")])
            } catch {
                return fail("invalid_refresh_token")
            }
        default:
            return fail("invalid_grant_type")
        }
    }

    /// The answer to a code: the bot's grant at the top level, the installer's in
    /// `authed_user` (only its `id` when no user scope was asked for).
    static func installed(_ issued: OAuthState.Issued, oauth: OAuthState) -> [String: Any] {
        let inst = issued.installation
        var o = identity(inst, oauth: oauth)
        var user: [String: Any] = ["id": inst.installerUserID]
        if let g = issued.user {
            user["scope"] = inst.userScopes.joined(separator: ",")
            user["access_token"] = g.access
            user["token_type"] = "user"
            if let r = g.refresh { user["refresh_token"] = r }
            if let e = g.expiresIn { user["expires_in"] = e }
        }
        o["authed_user"] = user
        if let g = issued.bot {
            o["scope"] = inst.botScopes.joined(separator: ",")
            o["token_type"] = "bot"
            o["access_token"] = g.access
            o["bot_user_id"] = inst.botUserID
            if let r = g.refresh { o["refresh_token"] = r }
            if let e = g.expiresIn { o["expires_in"] = e }
        }
        return o
    }

    /// The answer to a refresh grant: the new pair of the token's kind.
    static func refreshed(_ inst: SimInstallation, bot: Bool, _ g: OAuthState.Issued.Grant, oauth: OAuthState) -> [String: Any] {
        var o = identity(inst, oauth: oauth)
        o["access_token"] = g.access
        o["token_type"] = bot ? "bot" : "user"
        o["scope"] = (bot ? inst.botScopes : inst.userScopes).joined(separator: ",")
        if let e = g.expiresIn { o["expires_in"] = e }
        if let r = g.refresh { o["refresh_token"] = r }
        if bot { o["bot_user_id"] = inst.botUserID }
        return o
    }

    /// `ok`, `app_id`, `team`, `enterprise`, `is_enterprise_install`.
    static func identity(_ inst: SimInstallation, oauth: OAuthState) -> [String: Any] {
        [
            "ok": true,
            "app_id": oauth.config.apps[inst.client].appID,
            "team": inst.team.map { ["id": $0.id, "name": $0.name] as [String: Any] } ?? NSNull(),
            "enterprise": inst.enterprise.map { ["id": $0.id, "name": $0.name] as [String: Any] } ?? NSNull(),
            "is_enterprise_install": inst.isEnterpriseInstall,
        ]
    }

    /// Compares two secrets in time that depends only on their lengths.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }
}
