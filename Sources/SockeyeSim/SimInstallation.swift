/// One installation of an app in the simulated Slack: a workspace, or (org-wide) an
/// Enterprise Grid organisation, that approved the app, with the tokens it was given and
/// what was done with them. Keyed like Slack's: the enterprise id for an org-wide install,
/// else the team id (`OAuthState.Key`).
final class SimInstallation {
    /// The current access token of one kind (bot or user) and its refresh token.
    struct Grant {
        var access: String
        /// Token rotation: the refresh token that gets the next pair; nil without rotation.
        var refresh: String?
        /// OAuth clock seconds when `access` expires; nil: never.
        var expiresAt: Double?
        /// `auth.revoke` or an uninstall took it.
        var revoked = false
    }

    /// Web API calls, counted by method name.
    struct Calls: Sendable {
        /// Calls with a working token.
        var ok: [String: Int] = [:]
        /// Calls with one of its tokens after it was revoked.
        var revoked: [String: Int] = [:]
        /// Calls with one of its tokens after it expired.
        var expired: [String: Int] = [:]
    }

    let client: Int
    let key: String
    let team: SimConfig.Workspace?
    let enterprise: SimConfig.Enterprise?
    var isEnterpriseInstall: Bool { team == nil }
    /// Generated at the first install, stable for the app in this workspace or
    /// organisation across reinstalls.
    let botUserID: String
    let botID: String
    var installerUserID: String
    var botScopes: [String]
    var userScopes: [String]
    var bot: Grant?
    var user: Grant?
    /// Uninstalled (admin) or every token revoked (`auth.revoke`).
    var uninstalled = false
    /// Why it ended: `uninstall`, `auth.revoke`.
    var endedBy: String?
    /// Org-wide install: workspaces taken out of it (`team_access_revoked`).
    var removedTeams: [String] = []
    /// Approvals that made or renewed it.
    var installs = 1
    /// Refresh grants that renewed one of its tokens.
    var refreshes = 0
    var calls = Calls()

    init(client: Int, key: String, team: SimConfig.Workspace?, enterprise: SimConfig.Enterprise?, botUserID: String, botID: String,
         installerUserID: String, botScopes: [String], userScopes: [String]) {
        self.client = client
        self.key = key
        self.team = team
        self.enterprise = enterprise
        self.botUserID = botUserID
        self.botID = botID
        self.installerUserID = installerUserID
        self.botScopes = botScopes
        self.userScopes = userScopes
    }

    /// Its bot or user grant.
    func grant(bot isBot: Bool) -> Grant? { isBot ? bot : user }

    /// Sets its bot or user grant.
    func setGrant(bot isBot: Bool, _ g: Grant?) { if isBot { bot = g } else { user = g } }

    /// True while a token of it may be used.
    var active: Bool { !uninstalled }

    /// The workspaces it covers: its team, or the organisation's workspaces not removed.
    func coveredTeams(in config: SimConfig) -> [SimConfig.Workspace] {
        if let team { return [team] }
        guard let enterprise else { return [] }
        return config.workspaces(ofEnterprise: enterprise.id).filter { !removedTeams.contains($0.id) }
    }
}
