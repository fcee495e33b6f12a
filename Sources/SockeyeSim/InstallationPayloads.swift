import Foundation

/// Payloads as one installation of an app receives them: a payload kind's copy moved into a
/// workspace (team, enterprise, the installation's bot and the workspace's user), and the
/// events Slack sends when access ends (`tokens_revoked`, `app_uninstalled`,
/// `team_access_revoked`). Pure functions over JSON.
///
/// Events get Slack's wrapper fields for Enterprise Grid: `team_id`, `enterprise_id`,
/// `context_team_id`, `context_enterprise_id` (null when none), `is_ext_shared_channel`
/// and `authorizations` with the installation's bot. Slash commands get `team_id`,
/// `team_domain`, `user_id`, `is_enterprise_install` (`"true"`/`"false"`, a string as in
/// Slack's form) and, in an organisation, `enterprise_id` and `enterprise_name`;
/// interactive payloads `team {id, domain[, enterprise_id, enterprise_name]}`,
/// `enterprise` (`{id, name}` or null), `is_enterprise_install`, `user.team_id` and
/// `view.team_id`.
enum InstallationPayloads {
    /// Who receives a payload and where it happens.
    struct Context {
        var appID: String
        /// The workspace the payload is from; nil for organisation-level events.
        var team: SimConfig.Workspace?
        var enterprise: SimConfig.Enterprise?
        var isEnterpriseInstall: Bool
        var botUserID: String
        var botID: String

        init(_ inst: SimInstallation, team: SimConfig.Workspace?, appID: String) {
            self.appID = appID
            self.team = team
            enterprise = inst.enterprise
            isEnterpriseInstall = inst.isEnterpriseInstall
            botUserID = inst.botUserID
            botID = inst.botID
        }
    }

    /// The kinds made here rather than taken from the payload library: a message the
    /// installation's own bot wrote.
    static let botMessageKind = "bot_message"

    /// The placeholder users and bot of the built-in payloads (`PayloadLibrary.builtin`).
    static let builtinUser = "U0SIMUSR1"
    static let builtinBotUser = "U0SIMBOT1"
    static let builtinBot = "B0SIMBOT1"

    /// The cache key of a kind's copy for an installation and workspace.
    static func cacheKey(kind: String, app: Int, _ c: Context) -> String {
        "\(app)|\(kind)|\(c.team?.id ?? "-")|\(c.enterprise?.id ?? "-")|\(c.isEnterpriseInstall)|\(c.botUserID)"
    }

    /// `t` (one app's copy of a kind, carrying `appTeam` as its workspace) moved into `c`.
    /// `botMessage`: an event's inner message is made the bot's own (`user` = the bot
    /// user, `bot_id`, `app_id`). Nil when `t` is not a JSON object.
    static func moved(_ t: PayloadTemplate, appTeam: String, kind: String, botMessage: Bool = false, _ c: Context) -> PayloadTemplate? {
        var text = String(decoding: t.bytes, as: UTF8.self)
        let user = c.team?.userID ?? builtinUser
        text = text.replacingOccurrences(of: builtinBotUser, with: c.botUserID)
            .replacingOccurrences(of: builtinBot, with: c.botID)
            .replacingOccurrences(of: builtinUser, with: user)
        if let team = c.team { text = text.replacingOccurrences(of: appTeam, with: team.id) }
        guard var o = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return nil }
        switch t.type {
        case .eventsAPI:
            wrap(&o, c)
            if var event = o["event"] as? [String: Any] {
                if let team = c.team, event["team"] is String || event["type"] as? String == "message" { event["team"] = team.id }
                if botMessage {
                    event["user"] = c.botUserID
                    event["bot_id"] = c.botID
                    event["app_id"] = c.appID
                    event.removeValue(forKey: "client_msg_id")
                }
                o["event"] = event
            }
        case .slashCommands:
            if let team = c.team {
                o["team_id"] = team.id
                o["team_domain"] = team.domain
            }
            if let e = c.enterprise {
                o["enterprise_id"] = e.id
                o["enterprise_name"] = e.name
            } else {
                o.removeValue(forKey: "enterprise_id")
                o.removeValue(forKey: "enterprise_name")
            }
            o["is_enterprise_install"] = c.isEnterpriseInstall ? "true" : "false"
        case .interactive:
            if let team = c.team {
                var t: [String: Any] = ["id": team.id, "domain": team.domain]
                if let e = c.enterprise { t["enterprise_id"] = e.id; t["enterprise_name"] = e.name }
                o["team"] = t
                if var u = o["user"] as? [String: Any] { u["team_id"] = team.id; o["user"] = u }
                if var v = o["view"] as? [String: Any] { v["team_id"] = team.id; o["view"] = v }
            }
            o["enterprise"] = c.enterprise.map { ["id": $0.id, "name": $0.name] as [String: Any] } ?? NSNull()
            o["is_enterprise_install"] = c.isEnterpriseInstall
        }
        return template(o, type: t.type, accepts: t.acceptsResponsePayload, kind: kind)
    }

    /// Sets an event's wrapper fields for `c` (the authorization is the installation's bot).
    static func wrap(_ o: inout [String: Any], _ c: Context) {
        let team: Any = c.team?.id ?? NSNull()
        let enterprise: Any = c.enterprise?.id ?? NSNull()
        o["api_app_id"] = c.appID
        o["team_id"] = team
        o["enterprise_id"] = enterprise
        o["context_team_id"] = team
        o["context_enterprise_id"] = enterprise
        o["is_ext_shared_channel"] = false
        o["authorizations"] = [["enterprise_id": enterprise, "team_id": team, "user_id": c.botUserID, "is_bot": true,
                                "is_enterprise_install": c.isEnterpriseInstall] as [String: Any]]
    }

    /// An Events API payload of `inner` for `c`, with a fresh event id slot.
    static func event(_ inner: [String: Any], kind: String, _ c: Context) -> PayloadTemplate? {
        var o: [String: Any] = ["token": "sim-verification-token", "event": inner, "type": "event_callback",
                                "event_id": PayloadLibrary.eventPlaceholder, "event_time": 1_732_390_000]
        wrap(&o, c)
        return template(o, type: .eventsAPI, accepts: false, kind: kind)
    }

    /// `tokens_revoked`: the user ids whose user tokens (`oauth`) and bot user ids whose
    /// bot tokens (`bot`) were revoked (both keys always present).
    static func tokensRevoked(users: [String], bots: [String], _ c: Context) -> PayloadTemplate? {
        event(["type": "tokens_revoked", "tokens": ["oauth": users, "bot": bots]], kind: "tokens_revoked", c)
    }

    /// `app_uninstalled` (the inner event has its type only).
    static func appUninstalled(_ c: Context) -> PayloadTemplate? {
        event(["type": "app_uninstalled"], kind: "app_uninstalled", c)
    }

    /// `team_access_revoked` for an org-wide install: the organisation's event (no team).
    static func teamAccessRevoked(teams: [String], eventTS: String, _ c: Context) -> PayloadTemplate? {
        event(["type": "team_access_revoked", "team_ids": teams, "event_ts": eventTS], kind: "team_access_revoked", c)
    }

    static func template(_ o: [String: Any], type: EnvelopeType, accepts: Bool, kind: String) -> PayloadTemplate? {
        guard let data = try? JSONSerialization.data(withJSONObject: o, options: [.sortedKeys, .withoutEscapingSlashes]) else { return nil }
        return PayloadTemplate(type: type, acceptsResponsePayload: accepts, kind: kind, json: String(decoding: data, as: UTF8.self))
    }
}
