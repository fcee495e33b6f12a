import Foundation

/// What the operations and public listeners (`SockeyeOperations`) need from the process
/// that runs the apps: the apps' state for the status page, `/readyz` and `/status.json`,
/// the sinks' health, and where Slack's HTTP requests go. The daemon conforms; the
/// listeners depend on this, not on the daemon, so they can be driven by any host.
public protocol OperationsHost: Sendable {
    /// Every configured app as it stands now, in configuration order.
    func appSnapshots() -> [AppSnapshot]
    /// The sinks by name (their `health` is shown on the status page).
    var sinks: [String: any EventSink] { get }
    /// Where a request to `path` goes, or nil when no app takes requests there.
    func ingressRoute(_ path: String) -> IngressRoute?
    /// The workers' health by worker name (shown beside the sinks).
    var workerHealth: [String: SinkHealth] { get }
    /// The install page or OAuth redirect of an app installed by OAuth at `path`, or nil.
    func installRoute(_ path: String) -> InstallRoute?
    /// The installations of the apps installed by OAuth, by app name (the status page).
    func installationSnapshots() -> [String: [InstallationSnapshot]]
}

extension OperationsHost {
    /// No workers.
    public var workerHealth: [String: SinkHealth] { [:] }
    /// No app installed by OAuth.
    public func installRoute(_ path: String) -> InstallRoute? { nil }
    public func installationSnapshots() -> [String: [InstallationSnapshot]] { [:] }
}

/// One installation as the status page shows it: ids, names, state — never a token.
public struct InstallationSnapshot: Sendable, Equatable {
    public var id: String
    /// The workspace's (or org's) name, when Slack gave one.
    public var name: String?
    public var isEnterpriseInstall: Bool
    /// `active` or `revoked`.
    public var state: String
    /// Why it was revoked, or the last token problem.
    public var note: String?
    /// When its token expires (seconds since 1970), if it does.
    public var expiresAt: Int64?

    public init(id: String, name: String?, isEnterpriseInstall: Bool, state: String, note: String?, expiresAt: Int64?) {
        self.id = id
        self.name = name
        self.isEnterpriseInstall = isEnterpriseInstall
        self.state = state
        self.note = note
        self.expiresAt = expiresAt
    }
}

/// One app as the status page shows it: a consistent copy, taken when asked.
public struct AppSnapshot: Sendable {
    /// The app's configured name.
    public var name: String
    /// Where the app stands (its `description` is the text the status page shows).
    public var state: AppState
    /// Whether the app can take events now (see `AppState.isReady`).
    public var ready: Bool
    /// Socket Mode connections open and wanted.
    public var liveConnections: Int
    public var targetConnections: Int
    /// Events received, acked, nacked and matching no route.
    public var received: Int
    public var acked: Int
    public var nacked: Int
    public var unrouted: Int
    /// Redeliveries held back (by the connection pool and by the claims across channels).
    public var deduplicated: Int
    /// Socket Mode connections lost.
    public var reconnects: Int
    /// Events received per second over the last second or so.
    public var eventsPerSecond: Double
    /// When the last connection refresh began and why.
    public var lastRefresh: (at: Date, reason: String)?
    /// The latest errors, newest last.
    public var recentErrors: [(at: Date, message: String)]
    /// In a cluster: the app's connection slots among the nodes, as this node sees them.
    public var cluster: ConnectionShareSnapshot?
    /// The app's recent past, one sample per interval (a copy of fixed size); nil when the
    /// host keeps none.
    public var history: AppHistory?

    /// A snapshot with every figure given.
    public init(name: String, state: AppState, ready: Bool, liveConnections: Int = 0, targetConnections: Int = 0,
                received: Int = 0, acked: Int = 0, nacked: Int = 0, unrouted: Int = 0, deduplicated: Int = 0,
                reconnects: Int = 0, eventsPerSecond: Double = 0, lastRefresh: (at: Date, reason: String)? = nil,
                recentErrors: [(at: Date, message: String)] = []) {
        self.name = name
        self.state = state
        self.ready = ready
        self.liveConnections = liveConnections
        self.targetConnections = targetConnections
        self.received = received
        self.acked = acked
        self.nacked = nacked
        self.unrouted = unrouted
        self.deduplicated = deduplicated
        self.reconnects = reconnects
        self.eventsPerSecond = eventsPerSecond
        self.lastRefresh = lastRefresh
        self.recentErrors = recentErrors
    }
}

/// An app that takes Slack's HTTP requests, as the ingress sees it: the secret to check
/// signatures with, its request counters, and its batch loop.
public protocol IngressApp: AnyObject, Sendable {
    /// The app's configured name (in metrics and logs).
    var name: String { get }
    /// The signing secret's bytes, empty when none is set.
    var signingSecretBytes: [UInt8] { get }
    /// Counts one request of `kind` (nil: not known yet) that came to `outcome`
    /// (`sockeyed_ingress_requests_total`).
    func countIngress(_ kind: IngressRequest.Kind?, _ outcome: String)
    /// Finds each request's installation (apps installed by OAuth); nil for the others.
    var authorizer: (any EventAuthorizer)? { get }
    /// Takes verified requests' events without waiting; each `onAnswer` is called once the
    /// sinks are done (or at once with a nack when the app is stopping).
    func submit(_ requests: [(record: EventRecord, onAnswer: @Sendable (HTTPReply.Answer) -> Void)])
}

/// Where the ingress sends requests to one path: the app, the Request URL kinds it takes
/// there (several when the app gives one path for several), and its body limit.
public struct IngressRoute: Sendable {
    public let app: any IngressApp
    public let kinds: [IngressRequest.Kind]
    public let maxBodyBytes: Int

    /// A route to `app` for `kinds`, bodies up to `maxBodyBytes`.
    public init(app: any IngressApp, kinds: [IngressRequest.Kind], maxBodyBytes: Int) {
        self.app = app
        self.kinds = kinds
        self.maxBodyBytes = maxBodyBytes
    }
}
