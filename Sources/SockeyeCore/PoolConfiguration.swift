/// Everything a pool can be tuned by. docs/protocol.md gives the Slack behaviour behind the defaults.
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
    /// Whether the ack guard acks only deliveries the host has declared taken
    /// (`PoolController.taken(_:now:)`): a host that queues deliveries before its consumer
    /// sees them sets it, so an event still queued is never acked (a crash would lose it).
    /// Off: the guard covers every delivery from the moment it is made.
    public var ackGuardAwaitsTake = false
    /// How long delivered event ids are remembered for de-duplication.
    public var dedupWindow: Duration = .seconds(900)
    /// The most event ids remembered.
    public var dedupCapacity: Int = 100_000
    /// Backoff for ordinary failures (full jitter).
    public var backoff = Backoff(base: .seconds(1), cap: .seconds(120), jitter: .full)
    /// Backoff after `too_many_websockets` (equal jitter: never near zero).
    public var tooManyWebsocketsBackoff = Backoff(base: .seconds(30), cap: .seconds(600), jitter: .equal)
    /// `apps.connections.open` calls allowed back to back, then one per `urlRequestRefill`.
    /// One exception: when Slack's `refresh_requested` on the last live connection leaves
    /// the pool with none, one replacement goes at once even with the budget spent (Slack
    /// asked for it; its `ratelimited` answer, if any, is honoured as ever).
    public var urlRequestBurst: Int = 10
    /// Sustained rate of `apps.connections.open` calls (Tier 1 is about one a minute).
    public var urlRequestRefill: Duration = .seconds(60)
    /// From `.connect` to `.opened`.
    public var connectTimeout: Duration = .seconds(15)
    /// From `.opened` to `hello`.
    public var helloTimeout: Duration = .seconds(10)
    /// From `.close` to `.closed`, then `.abort`. Slack does not always close TCP after
    /// the handshake (docs/protocol.md, Closing a connection).
    public var closeTimeout: Duration = .seconds(2)
    /// How long a connection Slack retired (`refresh_requested`, or a `disconnect` with an
    /// unknown reason) stays open once its replacement is live, still read and acked,
    /// waiting for Slack to close it; then the pool closes it. Zero (the default) closes it
    /// as soon as the replacement is live. Lingering takes what a server that keeps sending
    /// until its own close still sends; but a server that ignores data once it sent its
    /// close (as libwebsockets does) then drops an ack in flight at that moment, and a
    /// slash command whose ack is dropped is never retried — so it is off until Slack's
    /// behaviour says which is right.
    public var refreshLinger: Duration = .zero
    /// Client ping interval; keeps middleboxes from idling the connection out.
    public var pingInterval: Duration = .seconds(10)
    /// A live connection with no frame, Slack ping or matching pong for this long is dead.
    public var silenceTimeout: Duration = .seconds(30)
    /// A live connection whose pings got no matching pong for this long is dead even if
    /// frames still arrive: the server stopped reading it, so acks sent on it are lost.
    /// Tolerant on purpose (Slack's pongs are sometimes seconds late); `nil` turns it off.
    public var pongTimeout: Duration? = .seconds(30)
    /// Replace a connection at this fraction of `approximate_connection_time`, in case the
    /// `warning` is lost; `nil` turns proactive refresh off.
    public var proactiveRefreshFraction: Double? = 0.9
    /// After `link_disabled`, try again after this long (with an alert each time); `nil`
    /// makes it terminal.
    public var linkDisabledRetry: Duration? = nil

    /// Redeliveries attached to one unacknowledged event at most (Slack retries three
    /// times, sometimes twice per attempt). Past the bound a redelivery is acked and
    /// dropped, counted in `PoolMetrics.redeliveriesOverflowed`.
    public var maxRedeliveriesPerEvent: Int = 8
    /// Redeliveries attached across all unacknowledged events at most; same rule.
    public var maxRedeliveriesHeld: Int = 10_000

    /// After `.stop`, how long live connections stay open so the host can still ack what
    /// it was given; then every connection closes. `.stopNow` skips the wait.
    public var drainTimeout: Duration = .seconds(3)

    /// The most connections a dynamic pool grows to; `nil` (or `poolSize`) keeps the pool
    /// static at `poolSize`. Clamped to Slack's 10 and to `connectionBudget - 1`, which
    /// keeps one slot for make-before-break refreshes.
    public var maxPoolSize: Int? = nil
    /// Grow when unacknowledged envelopes per live connection stay above this.
    public var growInFlightPerConnection: Int = 256
    /// Grow when delivered envelopes per second per live connection stay above this.
    public var growRatePerConnection: Int = 20_000
    /// How long load must stay above a grow threshold before the pool grows by one.
    public var growAfter: Duration = .seconds(5)
    /// How long load must stay below half of both grow thresholds before it shrinks by one.
    public var shrinkAfter: Duration = .seconds(60)
    /// No resize within this long of the previous one (hysteresis against flapping).
    public var resizeCooldown: Duration = .seconds(10)
    /// How often a dynamic pool measures its load (a static pool never does).
    public var resizeEvaluationInterval: Duration = .seconds(1)

    /// The defaults.
    public init() {}

    /// `poolSize` and `connectionBudget` clamped to Slack's 1...10; `maxPoolSize` to
    /// `poolSize...min(10, connectionBudget - 1)`; thresholds and intervals to sane minima.
    var clamped: PoolConfiguration {
        var copy = self
        copy.connectionBudget = min(max(1, connectionBudget), 10)
        copy.poolSize = min(max(1, poolSize), copy.connectionBudget)
        if let maxPoolSize {
            copy.maxPoolSize = max(copy.poolSize, min(maxPoolSize, copy.connectionBudget - 1))
        }
        copy.growInFlightPerConnection = max(1, growInFlightPerConnection)
        copy.growRatePerConnection = max(1, growRatePerConnection)
        copy.resizeEvaluationInterval = max(.milliseconds(10), resizeEvaluationInterval)
        copy.drainTimeout = max(.zero, drainTimeout)
        return copy
    }

    /// The largest size the pool may grow to (`poolSize` when static).
    var effectiveMaxPoolSize: Int { max(poolSize, maxPoolSize ?? poolSize) }
}

/// Counters a pool keeps; cheap to read at any time. New counters are only ever added.
public struct PoolMetrics: Sendable, Hashable {
    /// Text messages fed to `receive(frame:on:now:)`.
    public var framesReceived = 0
    /// Envelopes handed to the host (`.deliver`).
    public var envelopesDelivered = 0
    /// Redeliveries of an already acked event, acked and not delivered (and those past the attachment bound).
    public var duplicatesDropped = 0
    /// Frames that failed to scan, dropped.
    public var malformedFrames = 0
    /// `.sendAck` actions emitted (host, on receipt, guard, duplicates, attached redeliveries).
    public var acksSent = 0
    /// Acks sent again on another connection because theirs ended before they were written.
    public var acksResent = 0
    /// Host acks that came after Slack's deadline (ack guard off).
    public var acksLate = 0
    /// Deliveries the ack guard acked because the host had not.
    public var ackGuardFired = 0
    /// Deliveries that passed Slack's deadline unacknowledged (ack guard off).
    public var ackDeadlinesMissed = 0
    /// Deliveries the ack guard left unacked because the host had not taken them yet
    /// (`ackGuardAwaitsTake`); Slack redelivers them and the retry attaches to the copy.
    public var ackGuardWithheld = 0
    /// `apps.connections.open` calls asked for.
    public var urlRequests = 0
    /// `apps.connections.open` calls that failed.
    public var urlFailures = 0
    /// Connections that reached `hello`.
    public var connectionsOpened = 0
    /// Connections lost without being asked to close.
    public var connectionsLost = 0
    /// Connections retired for replacement.
    public var refreshes = 0
    /// `disconnect{too_many_websockets}` received.
    public var tooManyWebsockets = 0
    /// Client pings sent.
    public var pingsSent = 0
    /// Pongs that echoed one of our pings.
    public var pongsMatched = 0
    /// Latest `hello.num_connections`.
    public var slackConnectionCount: Int64? = nil
    /// Deliveries the host nacked (nothing acked; Slack's redelivery goes to the host).
    public var nacked = 0
    /// Envelopes received with `retry_attempt` above 0, whatever became of them.
    public var redeliveriesReceived = 0
    /// Redeliveries attached to a still-unacknowledged first copy instead of delivered.
    public var redeliveriesCoalesced = 0
    /// Attached redeliveries let go unacked (first copy nacked, or never acked at all), so
    /// that Slack retries again.
    public var redeliveriesReleased = 0
    /// Redeliveries acked and dropped because the attachment bound was reached.
    public var redeliveriesOverflowed = 0
    /// Envelopes that arrived after `.stop`: neither delivered nor acked (Slack redelivers).
    public var refusedWhileStopping = 0
    /// Drains that ended at `drainTimeout` with deliveries still unacknowledged.
    public var drainsTimedOut = 0
    /// Times a dynamic pool grew by one connection.
    public var poolGrown = 0
    /// Times a dynamic pool shrank by one connection.
    public var poolShrunk = 0
    /// The zero counters.
    public init() {}
}
