import Foundation

/// Web API methods that act on a bot or user token: `auth.test`, `auth.revoke` and
/// `chat.postMessage` (the one method an app calls "with a token", so tests can tell which
/// installation's tokens were used). Tokens are the configuration's (`SimConfig.botTokens`)
/// or OAuth-issued ones (`OAuthState`). Decisions only: a request and the time in, a
/// response out; every call is counted against its token's installation.
///
/// Token errors, HTTP 200: `not_authed` (none), `invalid_auth` (never issued),
/// `token_revoked` (revoked by `auth.revoke` or an uninstall), `token_expired` (rotation).
enum TokenWebAPI {
    /// A call's token: working (and what it is), or the error answer.
    enum Authenticated {
        case working(OAuthState.TokenStatus)
        case refused(WebAPIResponse)
    }

    /// The token of a call and what it is, counted under `method`; or the error answer.
    static func authenticate(_ r: HTTPRequest, _ p: [String: String], method: String, core: SimCore, now: Double) -> Authenticated {
        guard let token = RequestParams.token(r, params: p) else { return .refused(.error("not_authed")) }
        let status = core.oauth.status(of: token, now: now)
        core.oauth.count(method, status)
        switch status {
        case .configured, .valid: return .working(status)
        case .expired: return .refused(.error("token_expired"))
        case .revoked, .configuredRevoked: return .refused(.error("token_revoked"))
        case .unknown: return .refused(.error("invalid_auth"))
        }
    }

    /// `auth.test`: who the token is. An OAuth bot token answers its bot user and bot id,
    /// a user token its user; both with the team (for an org-wide install: the
    /// organisation's id and name as `team_id` and `team`), `enterprise_id`,
    /// `is_enterprise_install`, `expires_in` under rotation, and `X-OAuth-Scopes`.
    static func authTest(_ r: HTTPRequest, core: SimCore, now: Double) -> WebAPIResponse {
        let p = RequestParams.all(r)
        let status: OAuthState.TokenStatus
        switch authenticate(r, p, method: "auth.test", core: core, now: now) {
        case .refused(let e): return e
        case .working(let s): status = s
        }
        switch status {
        case .configured(let bot):
            return .json(200, ["ok": true, "url": "https://sockeye-sim.slack.com/", "team": bot.team, "user": bot.user,
                               "team_id": bot.teamID, "user_id": bot.userID, "bot_id": bot.botID, "is_enterprise_install": false],
                         headers: [("X-OAuth-Scopes", "chat:write,app_mentions:read,commands")])
        case .valid(let inst, let bot, let expiresAt):
            let teamID = inst.team?.id ?? inst.enterprise?.id ?? ""
            let teamName = inst.team?.name ?? inst.enterprise?.name ?? ""
            let domain = inst.team?.domain ?? SimConfig.Workspace.domain(of: teamName)
            var o: [String: Any] = [
                "ok": true, "url": "https://\(domain).slack.com/", "team": teamName, "team_id": teamID,
                "user": bot ? "sockeye-sim-bot" : "installer", "user_id": bot ? inst.botUserID : inst.installerUserID,
                "is_enterprise_install": inst.isEnterpriseInstall, "app_id": core.apps[inst.client].config.appID,
            ]
            if bot { o["bot_id"] = inst.botID }
            if let e = inst.enterprise { o["enterprise_id"] = e.id }
            if let expiresAt { o["expires_in"] = max(0, Int((expiresAt - core.oauth.clock(now)).rounded(.down))) }
            let scopes = (bot ? inst.botScopes : inst.userScopes).joined(separator: ",")
            return .json(200, o, headers: [("X-OAuth-Scopes", scopes)])
        default:
            return .error("invalid_auth")
        }
    }

    /// `auth.revoke`: revokes the calling token (`test=1`: checks it, revokes nothing,
    /// `revoked: false`). Sends `tokens_revoked`, and `app_uninstalled` when it was the
    /// installation's last working token.
    static func authRevoke(_ r: HTTPRequest, core: SimCore, now: Double) -> WebAPIResponse {
        let p = RequestParams.all(r)
        let status: OAuthState.TokenStatus
        switch authenticate(r, p, method: "auth.revoke", core: core, now: now) {
        case .refused(let e):
            if let t = RequestParams.token(r, params: p), let inst = core.oauth.installation(ofToken: t) {
                core.oauth.counters[inst.client].authRevokeCalls += 1
            }
            return e
        case .working(let s): status = s
        }
        let test = RequestParams.flag(p["test"])
        switch status {
        case .configured(let bot):
            if !test { core.oauth.revokedConfigTokens.insert(bot.token) }
        case .valid(let inst, let isBot, _):
            let o = core.oauth
            o.counters[inst.client].authRevokeCalls += 1
            o.counters[inst.client].revocations.append(OAuthRevocation(installation: inst.key, tokenType: isBot ? "bot" : "user", test: test))
            if o.counters[inst.client].revocations.count > 1000 { o.counters[inst.client].revocations.removeFirst() }
            if !test, let token = RequestParams.token(r, params: p) {
                let uninstalled = o.revoke(token: token, of: inst, bot: isBot)
                core.revoked(inst, bot: isBot, uninstalled: uninstalled, now: now)
            }
        default:
            break
        }
        return .json(200, ["ok": true, "revoked": !test])
    }

    /// `chat.postMessage` with `channel` and `text` (or `blocks` / `attachments`): answers
    /// `ok` with a `ts` and the message as the token's bot (or user) wrote it. Nothing is
    /// delivered anywhere. `channel_not_found` without a channel, `no_text` without content.
    static func postMessage(_ r: HTTPRequest, core: SimCore, now: Double) -> WebAPIResponse {
        let p = RequestParams.all(r)
        let status: OAuthState.TokenStatus
        switch authenticate(r, p, method: "chat.postMessage", core: core, now: now) {
        case .refused(let e): return e
        case .working(let s): status = s
        }
        guard let channel = p["channel"], !channel.isEmpty else { return .error("channel_not_found") }
        let text = p["text"] ?? ""
        guard !text.isEmpty || !(p["blocks"] ?? "").isEmpty || !(p["attachments"] ?? "").isEmpty else { return .error("no_text") }
        core.oauth.messageCounter += 1
        let n = core.oauth.messageCounter
        let ts = "\(1_732_390_000 + Int(max(0, min(core.oauth.clock(now), 1e9)))).\(String(n % 1_000_000).leftPad(6))"
        var message: [String: Any] = ["type": "message", "text": String(text.prefix(40_000)), "ts": ts]
        switch status {
        case .configured(let bot):
            message["user"] = bot.userID
            message["bot_id"] = bot.botID
            message["team"] = bot.teamID
        case .valid(let inst, let isBot, _):
            message["user"] = isBot ? inst.botUserID : inst.installerUserID
            if isBot { message["bot_id"] = inst.botID; message["app_id"] = core.apps[inst.client].config.appID }
            if let team = inst.team { message["team"] = team.id }
        default:
            break
        }
        return .json(200, ["ok": true, "channel": String(channel.prefix(100)), "ts": ts, "message": message])
    }
}
