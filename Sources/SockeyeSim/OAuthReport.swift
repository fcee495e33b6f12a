/// The OAuth side's counters and installations (`SimReport.oauth`, `GET /admin/oauth/stats`,
/// `GET /admin/oauth/installations`). Never a token or a secret.
public struct OAuthReport: Codable, Sendable, Equatable {
    /// One entry per app with an OAuth client, in configuration order.
    public var clients: [OAuthClientReport]
    /// `oauth.v2.access` calls naming no known client.
    public var unknownClientCalls: Int
    /// Web API calls with a token that was never issued, by method.
    public var unknownTokenCalls: [String: Int]
    /// How far the OAuth clock was moved ahead (`POST /admin/oauth/advance`), seconds.
    public var clockOffsetSeconds: Double
}

/// One app's OAuth client: what was asked of it and the installations it made.
public struct OAuthClientReport: Codable, Sendable, Equatable {
    /// The app's index in the configuration, and its `A…` id.
    public var app: Int
    public var appID: String
    public var clientID: String
    /// Token rotation's access token lifetime; nil: rotation off.
    public var tokenLifetimeSeconds: Int?
    /// Consent pages shown, approvals (codes issued), denials.
    public var authorizePages: Int
    public var approvals: Int
    public var denials: Int
    /// Authorize requests answered with an error page, by error.
    public var authorizeErrors: [String: Int]
    /// `oauth.v2.access` calls by `grant_type` (`authorization_code`, `refresh_token`, or
    /// whatever else was sent), successful or not.
    public var accessCalls: [String: Int]
    /// `oauth.v2.access` errors by code.
    public var accessErrors: [String: Int]
    /// `oauth.v2.access` answers `invalid_refresh_token`.
    public var invalidRefreshToken: Int
    /// `auth.revoke` calls with one of this client's tokens (working, revoked or expired).
    public var authRevokeCalls: Int
    /// Each `auth.revoke` with a working token: which installation, which token, `test`.
    public var revocations: [OAuthRevocation]
    /// Web API calls made with a revoked token of this client, by method.
    public var revokedTokenCalls: [String: Int]
    /// Web API calls made with an expired token of this client, by method.
    public var expiredTokenCalls: [String: Int]
    public var installations: [InstallationReport]
}

/// One `auth.revoke` call with a working token.
public struct OAuthRevocation: Codable, Sendable, Equatable {
    /// The installation's id (team id, or enterprise id for an org-wide install).
    public var installation: String
    /// `bot` or `user`.
    public var tokenType: String
    /// `test=1`: nothing was revoked.
    public var test: Bool
}

/// One installation, without its tokens.
public struct InstallationReport: Codable, Sendable, Equatable {
    /// The enterprise id for an org-wide install, else the team id.
    public var id: String
    public var app: Int
    public var appID: String
    /// Nil for an org-wide install.
    public var teamID: String?
    public var teamName: String?
    public var enterpriseID: String?
    public var enterpriseName: String?
    public var isEnterpriseInstall: Bool
    /// The workspaces whose events go to it (an org-wide install: the organisation's,
    /// less `removedTeamIDs`); empty once uninstalled.
    public var coveredTeamIDs: [String]
    /// Org-wide: workspaces taken out of it (`team_access_revoked`).
    public var removedTeamIDs: [String]
    public var botUserID: String
    public var botID: String
    public var installerUserID: String
    public var botScopes: [String]
    public var userScopes: [String]
    /// Uninstalled (admin uninstall, or `auth.revoke` of its last token).
    public var revoked: Bool
    /// `uninstall` or `auth.revoke`; nil while installed.
    public var endedBy: String?
    /// Whether its current bot and user tokens were revoked; nil when it has none of that kind.
    public var botTokenRevoked: Bool?
    public var userTokenRevoked: Bool?
    /// Seconds until its current bot and user access tokens expire (negative: expired);
    /// nil when they never expire or it has none.
    public var botTokenExpiresIn: Double?
    public var userTokenExpiresIn: Double?
    /// Approvals that made or renewed it, and refresh grants that renewed a token.
    public var installs: Int
    public var refreshes: Int
    /// Web API calls with its tokens, by method: with a working token, a revoked one, an
    /// expired one.
    public var calls: [String: Int]
    public var revokedTokenCalls: [String: Int]
    public var expiredTokenCalls: [String: Int]
}

extension OAuthState {
    /// The report at `now`.
    func report(now: Double) -> OAuthReport {
        let t = clock(now)
        var clients: [OAuthClientReport] = []
        for (i, app) in config.apps.enumerated() {
            guard let oc = app.oauth else { continue }
            let c = counters[i]
            let list = order.filter { $0.client == i }.compactMap { installations[$0] }.map { report($0, now: t) }
            clients.append(OAuthClientReport(
                app: i, appID: app.appID, clientID: oc.clientID, tokenLifetimeSeconds: oc.effectiveTokenLifetime,
                authorizePages: c.authorizePages, approvals: c.approvals, denials: c.denials, authorizeErrors: c.authorizeErrors,
                accessCalls: c.accessCalls, accessErrors: c.accessErrors, invalidRefreshToken: c.accessErrors["invalid_refresh_token"] ?? 0,
                authRevokeCalls: c.authRevokeCalls, revocations: c.revocations, revokedTokenCalls: c.revokedTokenCalls,
                expiredTokenCalls: c.expiredTokenCalls, installations: list))
        }
        return OAuthReport(clients: clients, unknownClientCalls: unknownClientCalls, unknownTokenCalls: unknownTokenCalls,
                           clockOffsetSeconds: clockOffset)
    }

    /// One installation at OAuth clock time `t`.
    func report(_ i: SimInstallation, now t: Double) -> InstallationReport {
        InstallationReport(
            id: i.key, app: i.client, appID: config.apps[i.client].appID, teamID: i.team?.id, teamName: i.team?.name,
            enterpriseID: i.enterprise?.id, enterpriseName: i.enterprise?.name, isEnterpriseInstall: i.isEnterpriseInstall,
            coveredTeamIDs: i.active ? i.coveredTeams(in: config).map(\.id) : [], removedTeamIDs: i.removedTeams,
            botUserID: i.botUserID, botID: i.botID, installerUserID: i.installerUserID, botScopes: i.botScopes, userScopes: i.userScopes,
            revoked: i.uninstalled, endedBy: i.endedBy, botTokenRevoked: i.bot.map(\.revoked), userTokenRevoked: i.user.map(\.revoked),
            botTokenExpiresIn: i.bot?.expiresAt.map { $0 - t }, userTokenExpiresIn: i.user?.expiresAt.map { $0 - t },
            installs: i.installs, refreshes: i.refreshes, calls: i.calls.ok, revokedTokenCalls: i.calls.revoked,
            expiredTokenCalls: i.calls.expired)
    }
}
