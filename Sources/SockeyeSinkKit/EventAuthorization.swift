/// The workspace and org an event comes from, as its payload names them (`PayloadTenant`,
/// in Bolt's order of preference): what finds its installation.
public struct EventTenant: Sendable, Hashable {
    public var enterpriseID: String?
    public var teamID: String?
    /// The app is installed for the whole org (`is_enterprise_install`).
    public var isEnterpriseInstall: Bool

    public init(enterpriseID: String?, teamID: String?, isEnterpriseInstall: Bool) {
        self.enterpriseID = enterpriseID
        self.teamID = teamID
        self.isEnterpriseInstall = isEnterpriseInstall
    }
}

/// The installation an event is for (an app installed by OAuth in many workspaces): its id
/// (the event line's `installation`) and its bot, for the own-message filter. Never a token.
public struct EventAuthorization: Sendable, Hashable {
    /// The installation's key: the enterprise id for an org-wide install, else the team id.
    public var installationID: String
    /// The installation's bot user (`U…`) and bot (`B…`).
    public var botUserID: String?
    public var botID: String?

    public init(installationID: String, botUserID: String?, botID: String?) {
        self.installationID = installationID
        self.botUserID = botUserID
        self.botID = botID
    }
}

/// Finds the installation of an event's workspace. The daemon gives one to each app with an
/// `oauth:` block; it is called for every event on the thread that reads it, so it must be
/// quick (a dictionary lookup) and never block on I/O.
public protocol EventAuthorizer: Sendable {
    /// The active installation that covers `tenant`, or nil when there is none (never
    /// installed, uninstalled, revoked).
    func authorize(_ tenant: EventTenant) -> EventAuthorization?
}
