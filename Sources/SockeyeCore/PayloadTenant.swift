/// Where a payload says it comes from: the workspace (team) and Enterprise Grid org, and
/// whether the app is installed org-wide — what finds an event's installation when one app
/// is installed in many workspaces. Read in `PayloadFields`' pass; views index into the
/// buffer scanned.
///
/// Slack names these differently by payload shape, and Bolt's order of preference (which
/// installation stores are keyed for) is kept by `enterpriseID`, `teamID` and
/// `isEnterpriseInstall`:
/// - Events API: `authorizations[0]` (`enterprise_id`, `team_id`, `is_enterprise_install`,
///   `user_id`), preferred over the top-level `enterprise_id`/`team_id` so events from
///   shared channels find the installation that received them;
/// - slash commands: `team_id`, `enterprise_id`, `is_enterprise_install` (a string there);
/// - interactive payloads: `team.id` (null in org-wide installs), `team.enterprise_id`,
///   `enterprise.id`, `is_enterprise_install`, `user.team_id`, `view.app_installed_team_id`,
///   `view.team_id`.
public struct PayloadTenant: Sendable, Hashable {
    /// `authorizations` has at least one element: its first decides.
    public var hasAuthorization = false
    public var authorizationEnterpriseID: ByteView = .absent
    public var authorizationTeamID: ByteView = .absent
    /// `authorizations[0].is_enterprise_install`; nil when absent or null.
    public var authorizationIsEnterpriseInstall: Bool?
    /// `authorizations[0].user_id`: the installation's bot user.
    public var authorizationUserID: ByteView = .absent
    /// `enterprise` as a string, or `enterprise.id`.
    public var enterprise: ByteView = .absent
    /// The top-level `enterprise_id`.
    public var enterpriseIDField: ByteView = .absent
    /// `team.enterprise_id`.
    public var teamEnterpriseID: ByteView = .absent
    /// `team` as a string, or `team.id`.
    public var team: ByteView = .absent
    /// The top-level `team_id`.
    public var teamIDField: ByteView = .absent
    /// `user.team_id` (interactive payloads).
    public var userTeamID: ByteView = .absent
    /// `view.app_installed_team_id` and `view.team_id`.
    public var viewInstalledTeamID: ByteView = .absent
    public var viewTeamID: ByteView = .absent
    /// The top-level `is_enterprise_install`: `true` or `"true"`; nil when absent.
    public var isEnterpriseInstallField: Bool?

    /// Nothing read.
    public init() {}

    /// The org: `enterprise`, else `authorizations[0].enterprise_id` (when there is an
    /// authorization, even if it names none), else `enterprise_id`, else `team.enterprise_id`.
    public var enterpriseID: ByteView {
        if enterprise.isPresent { return enterprise }
        if hasAuthorization { return authorizationEnterpriseID }
        if enterpriseIDField.isPresent { return enterpriseIDField }
        return teamEnterpriseID
    }

    /// The workspace: `view.app_installed_team_id`, else `team`, else
    /// `authorizations[0].team_id` (when there is an authorization), else `team_id`, else
    /// `user.team_id`, else `view.team_id`.
    public var teamID: ByteView {
        if viewInstalledTeamID.isPresent { return viewInstalledTeamID }
        if team.isPresent { return team }
        if hasAuthorization { return authorizationTeamID }
        if teamIDField.isPresent { return teamIDField }
        if userTeamID.isPresent { return userTeamID }
        return viewTeamID
    }

    /// Whether the app is installed org-wide: `authorizations[0].is_enterprise_install` when
    /// there is an authorization, else the top-level `is_enterprise_install`.
    public var isEnterpriseInstall: Bool {
        if hasAuthorization { return authorizationIsEnterpriseInstall ?? false }
        return isEnterpriseInstallField ?? false
    }
}
