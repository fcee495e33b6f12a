import SockeyeCore
import SockeyeTransport

/// A client's counters at one moment (`SocketModeClient.stats`). A copy of what the
/// transport publishes after each batch of work, so reading it never waits for the service
/// thread.
public struct SocketModeStats: Sendable, Hashable {
    /// The pool's own counters (envelopes received and delivered, acks sent, duplicates
    /// dropped, connections opened and lost, Slack's count of the app's connections …).
    public var pool = PoolMetrics()
    /// Acks and nacks the application asked for.
    public var hostAcks = 0
    public var hostNacks = 0
    /// Acks the application sent after Slack's deadline.
    public var lateAcks = 0
    /// Acks for envelopes already answered or unknown.
    public var staleAcks = 0
    /// Connection failures, by any layer.
    public var transportErrors = 0
    /// Of those, the exchanges that passed their deadline.
    public var timeouts = 0
    /// WebSocket protocol violations by the server.
    public var protocolErrors = 0
    /// The latest transport error, for a status line.
    public var lastError: String?
    /// Live WebSocket connections now.
    public var liveConnections = 0
    /// Connections the pool wants now.
    public var targetConnections = 0
    /// Envelopes delivered and not answered yet.
    public var outstandingAcks = 0
    /// Events waiting in `events` now, and the most there ever were.
    public var queuedEvents = 0
    public var peakQueuedEvents = 0
    /// Times the client stopped reading because `maxQueuedEvents` were waiting.
    public var intakePauses = 0
    /// Bytes received and sent on WebSocket connections (after TLS).
    public var bytesReceived = 0
    public var bytesSent = 0
    /// The pool's state.
    public var state: PoolState = .idle

    /// All zero (a client that has not connected yet reads the same).
    public init() {}

    init(_ stats: ClientStats) {
        pool = stats.pool
        hostAcks = stats.hostAcks
        hostNacks = stats.hostNacks
        lateAcks = stats.lateAcks
        staleAcks = stats.staleAcks
        transportErrors = stats.transportErrors
        timeouts = stats.timeouts
        protocolErrors = stats.protocolErrors
        lastError = stats.lastError
        liveConnections = stats.liveConnections
        targetConnections = stats.targetConnections
        outstandingAcks = stats.outstandingAcks
        queuedEvents = stats.queuedEvents
        peakQueuedEvents = stats.peakQueuedEvents
        intakePauses = stats.intakePauses
        bytesReceived = stats.bytesReceived
        bytesSent = stats.bytesSent
        state = stats.state
    }
}
