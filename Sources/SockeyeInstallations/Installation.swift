/// One installation of a Slack app: a workspace (or, for an org-wide install, an Enterprise
/// Grid organization) that approved the app, with the tokens Slack gave for it.
///
/// With Socket Mode the app-level token is one per app and every installation's events come
/// over the same sockets; what is per installation is what this holds: the bot's token and
/// identity (the own-message filter, Web API calls, handlers that answer) and the token of
/// the user who installed it, when user scopes were asked for.
///
/// Ids follow Slack's: an org-wide install (`isEnterpriseInstall`) is keyed by its
/// enterprise id, any other by its team id (team ids are unique across Slack). `id` is
/// that key; it is what event lines, logs and pages name — never a token.
public struct Installation: Sendable, Equatable {
    /// The Slack app's id (`A0…`).
    public var appID: String
    public var enterpriseID: String?
    public var enterpriseName: String?
    public var enterpriseURL: String?
    public var teamID: String?
    public var teamName: String?
    /// Installed for a whole Enterprise Grid organization (`is_enterprise_install`).
    public var isEnterpriseInstall: Bool
    /// The bot's token and identity; nil when the app asked for user scopes only.
    public var bot: BotCredentials?
    /// The user who installed the app.
    public var installerUserID: String
    /// The installer's token (user scopes); nil when none were asked for.
    public var user: UserCredentials?
    /// `bot` or `user`: the kind of the top-level `access_token` of `oauth.v2.access`.
    public var tokenType: String?
    /// Seconds since 1970 when first installed and when last changed (a new install of the
    /// same workspace, a token rotation).
    public var installedAt: Int64
    public var updatedAt: Int64

    /// The installation's key: the enterprise id for an org-wide install, else the team id.
    public var id: String { Self.id(enterpriseID: enterpriseID, teamID: teamID, isEnterpriseInstall: isEnterpriseInstall) }

    /// The key of the installation that covers a team (and enterprise), the way Slack's
    /// payloads name them.
    public static func id(enterpriseID: String?, teamID: String?, isEnterpriseInstall: Bool) -> String {
        if isEnterpriseInstall, let enterpriseID, !enterpriseID.isEmpty { return enterpriseID }
        return teamID ?? enterpriseID ?? ""
    }

    /// An installation with every field given.
    public init(appID: String, enterpriseID: String? = nil, enterpriseName: String? = nil, enterpriseURL: String? = nil,
                teamID: String?, teamName: String? = nil, isEnterpriseInstall: Bool = false, bot: BotCredentials?,
                installerUserID: String, user: UserCredentials? = nil, tokenType: String? = "bot",
                installedAt: Int64, updatedAt: Int64? = nil) {
        self.appID = appID
        self.enterpriseID = enterpriseID
        self.enterpriseName = enterpriseName
        self.enterpriseURL = enterpriseURL
        self.teamID = teamID
        self.teamName = teamName
        self.isEnterpriseInstall = isEnterpriseInstall
        self.bot = bot
        self.installerUserID = installerUserID
        self.user = user
        self.tokenType = tokenType
        self.installedAt = installedAt
        self.updatedAt = updatedAt ?? installedAt
    }

    /// The soonest time (seconds since 1970) one of its tokens expires; nil when none does
    /// (token rotation off).
    public var earliestExpiry: Int64? {
        [bot?.expiresAt, user?.expiresAt].compactMap { $0 }.min()
    }
}

/// A bot token with the bot's identity and, under token rotation, its refresh token and
/// expiry.
public struct BotCredentials: Sendable, Equatable {
    /// `xoxb-…`, or `xoxe.xoxb-1-…` under token rotation.
    public var token: String
    /// The bot's id (`B…`, matches an event's `bot_id`).
    public var botID: String
    /// The bot's user id (`U…`, an event's `user` when the bot wrote it).
    public var botUserID: String
    public var scopes: [String]
    /// `xoxe-1-…`: exchanged for the next token pair; single use.
    public var refreshToken: String?
    /// Seconds since 1970 when `token` stops working; nil when it does not expire.
    public var expiresAt: Int64?

    public init(token: String, botID: String, botUserID: String, scopes: [String], refreshToken: String? = nil, expiresAt: Int64? = nil) {
        self.token = token
        self.botID = botID
        self.botUserID = botUserID
        self.scopes = scopes
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
    }
}

/// The installing user's token (`xoxp-…`, or `xoxe.xoxp-1-…` under rotation).
public struct UserCredentials: Sendable, Equatable {
    public var token: String
    public var scopes: [String]
    public var refreshToken: String?
    public var expiresAt: Int64?

    public init(token: String, scopes: [String], refreshToken: String? = nil, expiresAt: Int64? = nil) {
        self.token = token
        self.scopes = scopes
        self.refreshToken = refreshToken
        self.expiresAt = expiresAt
    }
}

/// Whether an installation's tokens may be used.
public enum InstallationState: String, Sendable, Equatable, CaseIterable {
    /// Installed; its tokens are used.
    case active
    /// Uninstalled or its tokens revoked (`app_uninstalled`, `tokens_revoked`,
    /// `invalid_auth`, `account_inactive`, `token_revoked`, `sockeyed installations revoke`):
    /// its tokens are gone from the store and never used again. The row is kept (without
    /// tokens) until the retention period ends, then purged.
    case revoked
}

/// What may be shown of an installation (the CLI, the status page, logs): ids, names,
/// state and times — no token, no refresh token.
public struct InstallationSummary: Sendable, Equatable {
    public var id: String
    public var enterpriseID: String?
    public var enterpriseName: String?
    public var teamID: String?
    public var teamName: String?
    public var isEnterpriseInstall: Bool
    public var state: InstallationState
    /// Why it was revoked (`app_uninstalled`, `invalid_auth`, `revoked by operator`, …).
    public var reason: String?
    public var installedAt: Int64
    public var updatedAt: Int64
    /// When the bot's (or else the user's) token expires; nil when it does not.
    public var expiresAt: Int64?
    public var botUserID: String?
    public var botScopes: [String]

    public init(id: String, enterpriseID: String?, enterpriseName: String?, teamID: String?, teamName: String?,
                isEnterpriseInstall: Bool, state: InstallationState, reason: String?, installedAt: Int64, updatedAt: Int64,
                expiresAt: Int64?, botUserID: String?, botScopes: [String]) {
        self.id = id
        self.enterpriseID = enterpriseID
        self.enterpriseName = enterpriseName
        self.teamID = teamID
        self.teamName = teamName
        self.isEnterpriseInstall = isEnterpriseInstall
        self.state = state
        self.reason = reason
        self.installedAt = installedAt
        self.updatedAt = updatedAt
        self.expiresAt = expiresAt
        self.botUserID = botUserID
        self.botScopes = botScopes
    }
}
