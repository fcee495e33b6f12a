import Sockeye
import SockeyeSinkKit

/// What `sockeyed` runs: apps, the sinks their routes name, and the operations listener.
/// Built by `ConfigLoader` from a YAML file and the environment, already validated.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The Slack apps, each with its own connections and routes. Names are unique.
    public var apps: [AppSettings]
    /// Sinks by name; routes refer to them.
    public var sinks: [String: SinkSettings]
    /// Where the operations HTTP listener binds (`/metrics`, `/healthz`, `/readyz`, `/`);
    /// `nil` turns it off.
    public var operationsAddress: String?
    /// The listeners' limits, the operations listener's allowed hosts and the public
    /// listener (the ingress).
    public var listeners = ListenerSettings()
    /// The NATS servers and this node's name (the top-level `cluster:` block); nil without one.
    /// `jetstream` sinks need it.
    public var cluster: ClusterSettings?
    /// Workers consuming JetStream streams into sinks (the top-level `workers:` list).
    public var workers: [WorkerSettings] = []
    /// How long each sample of the status page's charts covers (360 are kept): 10 s, the
    /// last hour. Not in the file: `sockeyed demo --history-interval` shortens it, so a short
    /// run fills its charts. Fixed at start (a reload keeps the running one).
    public var historyInterval: Duration = .milliseconds(DaemonConfiguration.defaultHistoryIntervalMilliseconds)
    /// 10 s.
    public static let defaultHistoryIntervalMilliseconds: Int64 = 10_000

    public init(apps: [AppSettings], sinks: [String: SinkSettings], operationsAddress: String? = "127.0.0.1:9464") {
        self.apps = apps
        self.sinks = sinks
        self.operationsAddress = operationsAddress
    }
}

/// One Slack app.
public struct AppSettings: Sendable, Equatable {
    /// How the daemon acknowledges this app's envelopes.
    public enum AckPolicy: String, Sendable, Equatable, CaseIterable {
        /// After every sink the event is routed to accepted it (the default): an event is
        /// never acked before it is safe; a sink that fails nacks it, so Slack redelivers.
        case afterSinks = "after_sinks"
        /// As soon as it is received: fastest, but a sink failure loses the event.
        case onReceipt = "on_receipt"
    }

    /// Unique name, used in logs, metrics, the status page and the event lines.
    public var name: String
    /// The app-level token (`xapp-…`, with `connections:write`).
    public var appToken: String
    /// A bot token (`xoxb-…`) of the app: `sockeyed check` and the own-message filter learn
    /// the bot's identity from it (`auth.test`).
    public var botToken: String?
    /// Drop (ack and count) events the app's own bot authored; needs `botToken`.
    public var ignoreOwnMessages: Bool = false
    /// Slack's Web API base URL (a simulator's in tests).
    public var apiURL: String
    /// Connections kept open (1…10), and the most a dynamic pool may grow to.
    public var poolSize: Int
    public var maxPoolSize: Int?
    public var ack: AckPolicy
    /// Where events go; an event goes to the sinks of every route it matches.
    public var routes: [Route]
    /// A disabled app is configured but not started.
    public var enabled: Bool
    /// Over which channel Slack delivers this app's events.
    public var delivery: DeliveryMode = .socket
    /// The app's signing secret (Basic Information in the app's settings): HTTP requests
    /// to the ingress are checked with it. Needed for `http` and `both`.
    public var signingSecret: String?
    /// Where the ingress takes this app's HTTP requests (`http` and `both`).
    public var ingress = IngressSettings()
    /// Installed by OAuth in many workspaces (`oauth:`); nil for an app of one workspace.
    public var oauth: OAuthSettings?

    /// Socket Mode, HTTP (a Request URL pointing at the daemon's listener), or both at once
    /// (while the app moves from one to the other: each event is taken once whichever way
    /// it comes).
    public enum DeliveryMode: String, Sendable, Equatable, CaseIterable {
        case socket, http, both
        /// Whether the app opens Socket Mode connections.
        public var usesSocket: Bool { self != .http }
        /// Whether the app takes HTTP requests on the ingress.
        public var usesHTTP: Bool { self != .socket }
    }

    public init(name: String, appToken: String, apiURL: String = "https://slack.com/api/",
                poolSize: Int = 2, maxPoolSize: Int? = nil, ack: AckPolicy = .afterSinks,
                routes: [Route] = [Route(sinks: ["stdout"])], enabled: Bool = true) {
        self.name = name
        self.appToken = appToken
        self.apiURL = apiURL
        self.poolSize = poolSize
        self.maxPoolSize = maxPoolSize
        self.ack = ack
        self.routes = routes
        self.enabled = enabled
    }
}

/// The paths of one app on the daemon's HTTP listener, as its Request URLs name them
/// (Event Subscriptions, Slash Commands, Interactivity), and the largest body taken.
public struct IngressSettings: Sendable, Equatable {
    public var eventsPath = "/slack/events"
    public var commandsPath = "/slack/commands"
    public var actionsPath = "/slack/actions"
    /// Bodies larger than this are answered 413 (Slack's payloads stay far below 1 MiB).
    public var maxBodyBytes = 1 << 20
    public init() {}

    /// The three paths.
    public var paths: [String] { [eventsPath, commandsPath, actionsPath] }
}

/// One sink's settings.
public enum SinkSettings: Sendable, Equatable {
    /// One JSON line per event on standard output.
    case stdout
    /// One JSON line per event appended to a file (created if missing).
    case file(path: String)
    /// A durable SQLite spool: each batch is committed before its events are acked.
    case spool(SpoolSettings)
    /// A program run per event with the event's line on standard input: exit status 0 acks,
    /// anything else (or the timeout) nacks. A JSON object on its standard output becomes
    /// the ack's response payload when the envelope accepts one.
    case command(CommandSettings)
    /// Each event POSTed to an HTTP-mode app's Request URL(s) as Slack would send it there
    /// (signed), and acked when the app answers 2xx (the bridge).
    case http(HTTPForwardSettings)
    /// Each event published to a JetStream stream on the `cluster:` servers, and acked once
    /// the stream stored it (docs/cluster.md).
    case jetstream(JetStreamSettings)

    /// The sink's type as the configuration names it (`stdout`, `file`, `spool`, `command`,
    /// `http`, `jetstream`): what a message says of a sink, since its settings may hold secrets.
    public var kind: String {
        switch self {
        case .stdout: "stdout"
        case .file: "file"
        case .spool: "spool"
        case .command: "command"
        case .http: "http"
        case .jetstream: "jetstream"
        }
    }
}

/// A command sink's settings.
public struct CommandSettings: Sendable, Equatable {
    /// The program and its arguments (no shell: use `["sh", "-c", "…"]` for one).
    public var arguments: [String]
    /// Programs running at once (for this sink, across apps).
    public var concurrency: Int
    /// After this, the program is stopped (SIGTERM, then SIGKILL) and the event nacked.
    public var timeoutSeconds: Double
    /// Variables the program gets besides PATH, HOME, LANG, TZ and the event's metadata
    /// (`env:`); the daemon's other variables never reach it (`ChildEnvironment`).
    public var environment: [String: String]
    /// Give the program the bot token of the installation the event is for, as
    /// `SLACK_BOT_TOKEN` (`pass_bot_token: true`; apps installed by OAuth), so a handler can
    /// answer in the conversation. Off by default: no token reaches a program otherwise.
    public var passesBotToken = false

    public init(arguments: [String], concurrency: Int = 4, timeoutSeconds: Double = 2.5, environment: [String: String] = [:]) {
        self.arguments = arguments
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
        self.environment = environment
    }
}
