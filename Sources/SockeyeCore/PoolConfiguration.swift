/// Everything a pool can be tuned by. Defaults follow PROTOCOL.md's recommendations.
public struct PoolConfiguration: Sendable, Hashable {
    /// Connections to keep live (1...10). Two or more give zero-gap refreshes and survive
    /// the loss of one connection without missing events.
    public var poolSize: Int = 2
    /// Connections this process may have open at once, replacements included (1...10).
    /// Slack allows 10 per app across all processes: processes sharing an app should
    /// split the budget (each needs `poolSize + 1` for make-before-break refreshes).
    public var connectionBudget: Int = 10
    /// When envelopes are acknowledged.
    public var ackMode: AckMode = .afterHandler
    /// Slack's acknowledgement deadline.
    public var ackDeadline: Duration = .seconds(3)
    /// Ack empty an envelope the host has not acked this long after receipt; `nil` turns
    /// the guard off.
    public var ackGuard: Duration? = .milliseconds(2500)
    /// How long delivered event ids are remembered for de-duplication.
    public var dedupWindow: Duration = .seconds(900)
    /// The most event ids remembered.
    public var dedupCapacity: Int = 100_000
    /// Backoff for ordinary failures (full jitter).
    public var backoff = Backoff(base: .seconds(1), cap: .seconds(120), jitter: .full)
    /// Backoff after `too_many_websockets` (equal jitter: never near zero).
    public var tooManyWebsocketsBackoff = Backoff(base: .seconds(30), cap: .seconds(600), jitter: .equal)
    /// `apps.connections.open` calls allowed back to back, then one per `urlRequestRefill`.
    public var urlRequestBurst: Int = 10
    /// Sustained rate of `apps.connections.open` calls (Tier 1 is about one a minute).
    public var urlRequestRefill: Duration = .seconds(60)
    /// From `.connect` to `.opened`.
    public var connectTimeout: Duration = .seconds(15)
    /// From `.opened` to `hello`.
    public var helloTimeout: Duration = .seconds(10)
    /// From `.close` to `.closed`, then `.abort`. Slack does not always close TCP after
    /// the handshake (PROTOCOL.md §2.6).
    public var closeTimeout: Duration = .seconds(2)
    /// Client ping interval; keeps middleboxes from idling the connection out.
    public var pingInterval: Duration = .seconds(10)
    /// A live connection with no frame, Slack ping or matching pong for this long is dead.
    public var silenceTimeout: Duration = .seconds(30)
    /// Replace a connection at this fraction of `approximate_connection_time`, in case the
    /// `warning` is lost; `nil` turns proactive refresh off.
    public var proactiveRefreshFraction: Double? = 0.9
    /// After `link_disabled`, try again after this long (with an alert each time); `nil`
    /// makes it terminal.
    public var linkDisabledRetry: Duration? = nil

    /// The defaults.
    public init() {}

    /// `poolSize` and `connectionBudget` clamped to Slack's 1...10.
    var clamped: PoolConfiguration {
        var copy = self
        copy.connectionBudget = min(max(1, connectionBudget), 10)
        copy.poolSize = min(max(1, poolSize), copy.connectionBudget)
        return copy
    }
}

/// Counters a pool keeps; cheap to read at any time.
public struct PoolMetrics: Sendable, Hashable {
    public var framesReceived = 0
    public var envelopesDelivered = 0
    public var duplicatesDropped = 0
    public var malformedFrames = 0
    public var acksSent = 0
    public var acksLate = 0
    public var ackGuardFired = 0
    public var ackDeadlinesMissed = 0
    public var urlRequests = 0
    public var urlFailures = 0
    public var connectionsOpened = 0
    public var connectionsLost = 0
    public var refreshes = 0
    public var tooManyWebsockets = 0
    public var pingsSent = 0
    public var pongsMatched = 0
    /// Latest `hello.num_connections`.
    public var slackConnectionCount: Int64? = nil
    public init() {}
}
