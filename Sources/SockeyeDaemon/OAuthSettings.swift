/// An app distributed to many workspaces (the app's `oauth:` block, docs/oauth.md): the
/// "Add to Slack" flow on the public listener, the installation store, per-event
/// authorization and token rotation.
public struct OAuthSettings: Sendable, Equatable {
    /// The app's Client ID and Client Secret (Basic Information); the secret comes from the
    /// environment and is never logged or shown.
    public var clientID: String
    public var clientSecret: String
    /// Bot scopes and user scopes asked for at install.
    public var scopes: [String]
    public var userScopes: [String]
    /// The public URL Slack sends the browser back to (one of the app's Redirect URLs); its
    /// path is served on the public listener.
    public var redirectURL: String
    /// The installation store (SQLite).
    public var storePath: String
    /// Slack's authorization page (a simulator's in tests).
    public var authorizeURL = "https://slack.com/oauth/v2/authorize"
    /// Where the "Add to Slack" page is served on the public listener.
    public var installPath = "/slack/install"
    /// Accept a redirect that carries no `state` (an install started from Slack's App
    /// Directory or app settings page rather than from `installPath`). Off by default: such a
    /// request cannot be tied to a browser session.
    public var acceptsInstallsWithoutState = false
    /// How long a revoked installation's row (without tokens) is kept before it is purged.
    public var retentionSeconds: Double = 30 * 86_400
    /// How long before its expiry an expiring token is refreshed.
    public var refreshAheadSeconds: Double = 2 * 3_600
    /// How often each installation's token is tried with `auth.test` (a dead workspace or
    /// token is then revoked); 0 turns the check off.
    public var checkIntervalSeconds: Double = 6 * 3_600

    public init(clientID: String, clientSecret: String, scopes: [String], userScopes: [String] = [], redirectURL: String,
                storePath: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.scopes = scopes
        self.userScopes = userScopes
        self.redirectURL = redirectURL
        self.storePath = storePath
    }

    /// The path of `redirectURL` (served on the public listener).
    public var redirectPath: String {
        guard let schemeEnd = redirectURL.range(of: "://") else { return redirectURL }
        let rest = redirectURL[schemeEnd.upperBound...]
        guard let slash = rest.firstIndex(of: "/") else { return "/" }
        let path = rest[slash...]
        return String(path.prefix { $0 != "?" && $0 != "#" })
    }
}
