/// Why an installation action of the admin API was refused: an admin error code and a
/// sentence for a person.
public struct OAuthAdminError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `unknown_app`, `unknown_team`, `unknown_enterprise`, `not_installed`,
    /// `unknown_kind`, `invalid_arguments`.
    public var code: String
    public var message: String
    public init(code: String, message: String) { self.code = code; self.message = message }
    public var description: String { "\(code): \(message)" }
}

/// What happens to installations from the admin side: events for a workspace delivered to
/// the installation that covers it, uninstalls and workspaces taken out of an org-wide
/// install, each sending the events Slack sends. Over the app's current delivery mode,
/// like every payload.
extension SimCore {
    /// Most payloads one inject request may make.
    static let maxInstallationInject = 100_000

    /// Delivers `count` payloads of `kind` from workspace `teamID` to the installation of
    /// app `app` that covers it (the workspace's own, else its organisation's org-wide
    /// one). `kind` is any payload kind, or `bot_message` (a message the installation's
    /// bot wrote). `enterpriseID`, when given, must be the workspace's organisation.
    /// Returns the installation's id.
    @discardableResult
    public func injectForTeam(_ teamID: String, enterpriseID: String? = nil, kind: String, count: Int = 1, app: Int = 0,
                              now: Double) throws(OAuthAdminError) -> String {
        guard apps.indices.contains(app) else { throw OAuthAdminError(code: "unknown_app", message: "app \(app), but the config has \(apps.count) app(s)") }
        guard (1...Self.maxInstallationInject).contains(count) else {
            throw OAuthAdminError(code: "invalid_arguments", message: "count must be 1 … \(Self.maxInstallationInject)")
        }
        guard let team = config.workspace(teamID) else { throw OAuthAdminError(code: "unknown_team", message: "no workspace \(teamID)") }
        if let enterpriseID, team.enterpriseID != enterpriseID {
            throw OAuthAdminError(code: "unknown_team", message: "workspace \(teamID) is not in organization \(enterpriseID)")
        }
        guard let inst = oauth.installation(covering: team, client: app) else {
            throw OAuthAdminError(code: "not_installed", message: "app \(app) has no active installation covering \(teamID)")
        }
        let context = InstallationPayloads.Context(inst, team: team, appID: apps[app].config.appID)
        let key = InstallationPayloads.cacheKey(kind: kind, app: app, context)
        let index: Int
        if let cached = installationTemplates[key] {
            index = cached
        } else {
            let botMessage = kind == InstallationPayloads.botMessageKind
            guard let base = template(kind: botMessage ? "message" : kind, app: app),
                  let t = InstallationPayloads.moved(templates[base], appTeam: apps[app].config.identity.teamID, kind: kind,
                                                     botMessage: botMessage, context)
            else {
                throw OAuthAdminError(code: "unknown_kind", message: "kinds: " + (kinds + [InstallationPayloads.botMessageKind]).joined(separator: ", "))
            }
            index = addTemplate(t)
            if installationTemplates.count < 10_000 { installationTemplates[key] = index }
        }
        for _ in 0..<count { inject(template: index, app: app, now: now) }
        return inst.key
    }

    /// Uninstalls installation `id` (team or enterprise id) of app `app`: every token
    /// stops working, then `tokens_revoked` and `app_uninstalled` are sent (for an org-wide
    /// install as the organisation's events: `team_id` null).
    public func uninstall(_ id: String, app: Int = 0, now: Double) throws(OAuthAdminError) {
        let inst = try activeInstallation(id, app: app)
        let revokedUsers = inst.user.map { $0.revoked ? [] : [inst.installerUserID] } ?? []
        let revokedBots = inst.bot.map { $0.revoked ? [] : [inst.botUserID] } ?? []
        oauth.uninstall(inst)
        let context = InstallationPayloads.Context(inst, team: inst.team, appID: apps[app].config.appID)
        send(InstallationPayloads.tokensRevoked(users: revokedUsers, bots: revokedBots, context), app: app, now: now)
        send(InstallationPayloads.appUninstalled(context), app: app, now: now)
    }

    /// Takes workspace `teamID` out of the org-wide install of `enterpriseID` (app `app`)
    /// and sends `team_access_revoked`; its events are then no longer delivered while the
    /// install's tokens keep working for the other workspaces.
    public func revokeTeamAccess(enterpriseID: String, teamID: String, app: Int = 0, now: Double) throws(OAuthAdminError) {
        guard config.enterprise(enterpriseID) != nil else {
            throw OAuthAdminError(code: "unknown_enterprise", message: "no organization \(enterpriseID)")
        }
        let inst = try activeInstallation(enterpriseID, app: app)
        guard inst.isEnterpriseInstall, inst.coveredTeams(in: config).contains(where: { $0.id == teamID }) else {
            throw OAuthAdminError(code: "unknown_team", message: "\(teamID) is not a workspace the org-wide install of \(enterpriseID) covers")
        }
        inst.removedTeams.append(teamID)
        let context = InstallationPayloads.Context(inst, team: nil, appID: apps[app].config.appID)
        send(InstallationPayloads.teamAccessRevoked(teams: [teamID], eventTS: nextEventTS(), context), app: app, now: now)
    }

    /// After `auth.revoke`: `tokens_revoked` for the token, and `app_uninstalled` when it
    /// was the installation's last one.
    func revoked(_ inst: SimInstallation, bot: Bool, uninstalled: Bool, now: Double) {
        let context = InstallationPayloads.Context(inst, team: inst.team, appID: apps[inst.client].config.appID)
        send(InstallationPayloads.tokensRevoked(users: bot ? [] : [inst.installerUserID], bots: bot ? [inst.botUserID] : [], context),
             app: inst.client, now: now)
        if uninstalled { send(InstallationPayloads.appUninstalled(context), app: inst.client, now: now) }
    }

    func activeInstallation(_ id: String, app: Int) throws(OAuthAdminError) -> SimInstallation {
        guard apps.indices.contains(app) else { throw OAuthAdminError(code: "unknown_app", message: "app \(app), but the config has \(apps.count) app(s)") }
        guard let inst = oauth.installation(id, client: app), inst.active else {
            throw OAuthAdminError(code: "not_installed", message: "app \(app) has no active installation \(id)")
        }
        return inst
    }

    /// Delivers a one-off payload to `app`.
    func send(_ t: PayloadTemplate?, app: Int, now: Double) {
        guard let t else { return }
        inject(template: addTemplate(t), app: app, now: now)
    }

    /// Adds a template that no kind names (it is reached by its index only).
    func addTemplate(_ t: PayloadTemplate) -> Int {
        templates.append(t)
        templateIsEvent.append(t.type == .eventsAPI)
        templateLabel.append(ResponseLog.label(of: t))
        return templates.count - 1
    }

    /// A distinct `event_ts` for events made here.
    func nextEventTS() -> String {
        oauth.messageCounter += 1
        return "\(1_732_390_000 + oauth.messageCounter).000100"
    }
}
