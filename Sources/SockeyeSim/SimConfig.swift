/// Configuration of one simulated Slack: apps, tokens, timings and behaviour switches.
///
/// Durations marked *protocol time* are divided by `timeScale` (so a 18 060 s lifetime
/// takes 18 s at `timeScale` 1 000); the ack deadline and ping interval are real seconds.
public struct SimConfig: Codable, Sendable {
    /// One Slack app with its app-level tokens.
    public struct App: Codable, Sendable {
        /// The `A…` app id reported in `hello.connection_info.app_id`.
        public var appID: String
        /// App-level (`xapp-`) tokens accepted by `apps.connections.open`.
        public var appTokens: [String]
        /// Scopes of the app-level tokens; `connections:write` is required.
        public var scopes: [String]
        /// The workspace (`T…`) this app's payloads carry in `team_id` / `team.id`; nil:
        /// `SimConfig.defaultTeamID`.
        public var teamID: String?
        /// The app's OAuth client (`oauth/v2/authorize`, `oauth.v2.access`); nil: the app
        /// cannot be installed with OAuth. The default first app has `OAuthClient.default`.
        public var oauth: OAuthClient?
        public init(appID: String, appTokens: [String], scopes: [String] = ["connections:write", "authorizations:read"],
                    teamID: String? = nil, oauth: OAuthClient? = nil) {
            self.appID = appID
            self.appTokens = appTokens
            self.scopes = scopes
            self.teamID = teamID
            self.oauth = oauth
        }
    }
    /// The workspace of apps without a `teamID` (and of the default bot token).
    public static let defaultTeamID = "T0SIM0001"
    /// A bot (`xoxb-`) or user (`xoxp-`) token known to `auth.test`.
    public struct BotToken: Codable, Sendable {
        public var token: String
        public var teamID: String = SimConfig.defaultTeamID
        public var team: String = "Sockeye Sim Workspace"
        public var userID: String = "U0SIMBOT1"
        public var user: String = "sockeye-bot"
        public var botID: String = "B0SIMBOT1"
        public init(token: String) { self.token = token }
    }
    /// How envelopes are spread over an app's connections.
    public enum Routing: String, Codable, Sendable {
        case roundRobin = "round_robin", random
        /// Prefer ghost registrations while any exist (payloads are lost to them).
        case stickToGhost = "stick_to_ghost"
    }
    /// What happens to a client frame of `maxClientFrame` bytes or more.
    public enum OversizeAction: String, Codable, Sendable { case close1009 = "close", drop }
    /// How a refreshed connection ends after `refresh_requested`.
    public enum RefreshClose: String, Codable, Sendable { case closeFrame = "close", tcpDrop = "drop" }

    public var apps: [App] = [App(appID: "A0SIMAPP01", appTokens: ["xapp-1-A0SIMAPP01-1-simsecret"], oauth: .default)]
    public var botTokens: [BotToken] = [BotToken(token: "xoxb-sim-bot-token")]
    /// Host name used in URLs handed out (the listener is always 127.0.0.1).
    public var host = "127.0.0.1"
    /// Backend pod name in `hello.debug_info.host` and ping payloads.
    public var podName = "applink-7fc4fdbb64-4x5xq"
    public var buildNumber = 54
    public var maxConnectionsPerApp = 10
    /// Protocol time; lifetime of a connection.
    public var connectionLifetime: Double = 18_060
    /// Protocol time; lifetime with `debug_reconnects=true`.
    public var debugConnectionLifetime: Double = 360
    /// Protocol time; `warning` lead before `refresh_requested`.
    public var warningLead: Double = 10
    /// Probability that a `warning` precedes a refresh.
    public var warningProbability: Double = 1
    /// Protocol time between `refresh_requested` and the close.
    public var refreshCloseDelay: Double = 1
    public var refreshClose: RefreshClose = .closeFrame
    /// Keep sending envelopes on a connection after its `refresh_requested`, until the
    /// server closes it (nothing in the protocol forbids it; a client that closes a
    /// refreshed connection early then loses what was on the wire to a redelivery).
    public var deliverUntilRefreshClose = false
    /// Divides every protocol-time duration.
    public var timeScale: Double = 1
    /// Real seconds a client has to ack an envelope.
    public var ackDeadline: Double = 3
    /// Protocol time; delay before retry 1, 2, 3 of an unacked event.
    public var retryDelays: [Double] = [0, 60, 300]
    /// A new `envelope_id` for each retry (Slack's observed behaviour).
    public var newEnvelopeIDPerRetry = true
    /// Accept an ack on any of the app's connections, not only the delivering one.
    public var acksOnAnyConnection = true
    public var routing: Routing = .roundRobin
    /// Real seconds between server pings; 0 disables.
    public var pingInterval: Double = 10
    /// Close a connection after this many unanswered server pings; 0 never.
    public var maxMissedPongs = 0
    public var maxClientFrame = 20_480
    public var oversize: OversizeAction = .close1009
    /// Protocol time a ticket stays valid.
    public var ticketTTL: Double = 60
    /// Keep registrations of connections lost without a close frame as ghosts.
    public var ghostOnUncleanClose = false
    /// Protocol time a ghost registration lives.
    public var ghostTTL: Double = 18_000
    /// Queue events while the app has no connection and deliver them on the next hello.
    public var queueWhileDisconnected = true
    /// `apps.connections.open` calls allowed per app per minute (real time); 0 unlimited.
    public var openRateLimitPerMinute = 0
    /// Events disabling rule: at least this many event deliveries in the window (0 turns
    /// the rule off; Slack applies it to apps with ≥ 1 000 events per hour).
    public var disableMinDeliveries = 1_000
    /// Events disabling rule: the acked fraction below which events are disabled.
    public var disableMinAckRatio = 0.05
    /// Protocol time; the disabling rule's window (60 minutes).
    public var disableWindow: Double = 3_600
    /// HTTP delivery mode: keep-alive connections to the Request URL, which is also the
    /// number of requests in progress at once.
    public var httpConnections = 8
    /// `Retry-After` seconds sent with HTTP 429.
    public var retryAfterSeconds = 30
    /// Workspaces apps can be installed into with OAuth (`SimConfig+Workspaces`).
    public var workspaces: [Workspace] = SimConfig.defaultWorkspaces
    /// Enterprise Grid organisations; an org-wide install covers their workspaces.
    public var enterprises: [Enterprise] = SimConfig.defaultEnterprises
    /// Real seconds an OAuth authorization code stays valid (Slack: 10 minutes).
    public var oauthCodeLifetime: Double = 600
    public init() {}

    /// Scales a protocol-time duration to real seconds.
    public func real(_ protocolSeconds: Double) -> Double { protocolSeconds / max(timeScale, 1e-9) }
}
