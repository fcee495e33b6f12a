/// The limits of one HTTP listener. Each is a key under the listener's section of the
/// configuration (`operations:` or `public:`), range-checked when the file is read:
///
/// | key | operations | public | range |
/// |---|---|---|---|
/// | `max_connections` | 64 | 1024 | 1…100000 |
/// | `head_timeout` | 10s | 10s | 100ms…10m |
/// | `body_timeout` | 10s | 10s | 100ms…10m |
/// | `min_body_rate` | 16KiB | 16KiB | 1B…1GiB (per second) |
/// | `max_requests_per_connection` | 1000 | 1000 | 1…1000000 |
/// | `idle_timeout` | 30s | 60s | 100ms…1h |
///
/// - `max_connections`: connections open at once. At the cap, a new connection closes the
///   longest-idle one (accepted and silent, or between keep-alive requests with nothing
///   owed; counted as `idle_evicted`), so a flood of idle connections cannot lock Slack
///   out; when every connection is busy, the new one is closed as soon as it is accepted
///   (counted as `connection_limit`).
/// - `head_timeout`: the whole request head must arrive within this, counted from its first
///   byte (from the connection's accept for its first request); it is not restarted by
///   later bytes, so a head sent a byte at a time is cut off (`head_timeout`).
/// - `body_timeout` and `min_body_rate`: the body must arrive within
///   `body_timeout + size / min_body_rate`, from the end of the head, where size is the
///   declared `Content-Length` (the path's limit for a chunked body) (`body_timeout`).
/// - `max_requests_per_connection`: the last request's answer carries `Connection: close`.
/// - `idle_timeout`: a keep-alive connection with nothing in progress is closed after this.
///
/// The body size per path is not a listener key: the ingress takes each app's
/// `ingress.max_body`, the operations listener takes no body, and a request to a path no
/// one serves is answered 404 without reading its body (the connection then closes).
public struct ListenerLimits: Sendable, Equatable {
    public var maxConnections: Int
    public var headTimeoutSeconds: Double
    public var bodyTimeoutSeconds: Double
    public var minBodyBytesPerSecond: Int
    public var maxRequestsPerConnection: Int
    public var idleTimeoutSeconds: Double

    public init(maxConnections: Int, headTimeoutSeconds: Double = 10, bodyTimeoutSeconds: Double = 10,
                minBodyBytesPerSecond: Int = 16 * 1024, maxRequestsPerConnection: Int = 1000, idleTimeoutSeconds: Double) {
        self.maxConnections = maxConnections
        self.headTimeoutSeconds = headTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.minBodyBytesPerSecond = minBodyBytesPerSecond
        self.maxRequestsPerConnection = maxRequestsPerConnection
        self.idleTimeoutSeconds = idleTimeoutSeconds
    }

    /// The operations listener's defaults: few clients (a scraper, a probe, a browser).
    public static let operations = ListenerLimits(maxConnections: 64, idleTimeoutSeconds: 30)
    /// The public listener's defaults: Slack opens many connections at busy times.
    public static let publicListener = ListenerLimits(maxConnections: 1024, idleTimeoutSeconds: 60)

    /// The range of each duration key, in seconds.
    public static let headTimeoutRange = 0.1...600.0
    public static let bodyTimeoutRange = 0.1...600.0
    public static let idleTimeoutRange = 0.1...3600.0
    public static let maxConnectionsRange = 1...100_000
    public static let minBodyRateRange = 1...(1 << 30)
    public static let maxRequestsRange = 1...1_000_000
}
