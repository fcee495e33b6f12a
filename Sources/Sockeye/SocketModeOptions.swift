import SockeyeCore
import SockeyeTransport

/// How a `SocketModeClient` connects and acknowledges.
public struct SocketModeOptions: Sendable {
    /// The Web API base URL (`SOCKEYE_API_URL` is a common way to point it at a simulator).
    public var apiBaseURL = "https://slack.com/api/"
    /// Connections kept open (1…10). Two or more give gap-free refreshes.
    public var poolSize = 2
    /// Grow up to this many connections under load (nil: a fixed pool).
    public var maxPoolSize: Int? = nil
    /// When envelopes are acknowledged: `.onReceipt`, `.afterHandler` (when the event is
    /// released without an answer, i.e. after the loop body that got it), or `.manual`.
    public var ackMode: AckMode = .afterHandler
    /// Ack empty an envelope not acked this long after receipt (nil: off).
    public var ackGuard: Duration? = .milliseconds(2500)
    /// The guard acks only events the application took out of `events` (or
    /// `eventBatches`): one still waiting in the stream is never acked, so a crash cannot
    /// lose it; Slack redelivers it after its deadline and the retry joins the queued copy.
    /// On by default. The price: an application whose tasks do not get to the stream within
    /// Slack's 3 s (a cooperative thread pool blocked by synchronous work) sees its events
    /// acked late and Slack retrying them, where with this off the guard would have acked
    /// them unseen.
    public var ackGuardWaitsForConsumer = true
    /// How long delivered event ids are remembered to drop Slack's redeliveries.
    public var dedupWindow: Duration = .seconds(900)
    /// Events waiting in `events` (received, not taken by the application) at most: at this
    /// many the client stops reading its connections, so TCP pushes back on Slack (which
    /// redelivers after its deadline), and reads again once half of them are taken
    /// (1…10 000 000; 10 000 by default). Nothing is acked while it waits.
    public var maxQueuedEvents = SocketModeOptions.defaultMaxQueuedEvents
    /// The default of `maxQueuedEvents`: a bound for hosts that queue the events further.
    public static let defaultMaxQueuedEvents = ClientConfiguration.defaultMaxQueuedEvents
    /// An explicit proxy URL (`http://user:pass@host:port`; `host:port` means `http://`);
    /// nil reads `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY` from the environment. Only
    /// `http://` proxies: an `https://` one is refused (its credentials would go in clear).
    public var proxyURL: String? = nil
    /// Hosts that bypass `proxyURL` (the NO_PROXY syntax), when `proxyURL` is set.
    public var noProxy: [String] = []
    /// A PEM file of CA certificates to trust instead of the system store (nil: the system
    /// store, or `SSL_CERT_FILE`).
    public var caFile: String? = nil
    /// The largest message accepted (bigger ones close the connection with 1009).
    public var maxMessageSize = 1 << 20
    /// The deadline of each `apps.connections.open` call, from the DNS lookup to the answer
    /// (0.1…300 s). A server, proxy or TLS peer that stops answering fails the call with a
    /// timeout that names the stalled step, and a new call follows after the backoff. The
    /// WebSocket upgrade is bounded by `pool.connectTimeout`, the wait for `hello` by
    /// `pool.helloTimeout`.
    public var webAPITimeout: Duration = SocketModeRuntime.defaultWebAPITimeout
    /// Every other pool setting (timeouts, backoff, drain), for the rare case that needs it.
    public var pool = PoolConfiguration()
    /// The runtime (service thread) to run on; nil shares one per process.
    public var runtime: SocketModeRuntime? = nil
    /// Environment to read proxy and CA settings from (defaults to the process's).
    public var environment: [String: String]? = nil

    /// The defaults.
    public init() {}
}
