/// The sans-IO engine of one Slack app's Socket Mode connections.
///
/// It owns no socket, thread or clock. The host (the transport) feeds it what happened —
/// `handle(_:now:)` for lifecycle events, `receive(frame:on:now:)` for text frames,
/// `receivePong(_:on:now:)` for pongs, `ack(_:payload:now:)` for the application's acks —
/// and after each call drains `nextAction()` and performs the actions in order. It calls
/// `handle(.timer, now:)` when `nextDeadline()` is reached. Time and randomness are
/// injected, so every transition is a unit test with a fake clock.
///
/// What it guarantees (the Slack behaviour behind each point is in docs/protocol.md):
/// - a pool of 1–10 connections; a URL from `apps.connections.open` is used once;
///   URL requests are single-flight, rate-limited and backed off with full jitter, and
///   `Retry-After` is a floor; backoff resets only once a connection reaches `hello`;
///   a connection Slack retired with `refresh_requested` is replaced past the rate limit
///   when the pool has no live connection left (Slack asked; the pool must not go deaf
///   waiting for its own budget);
/// - make-before-break refresh on `warning`, `refresh_requested` and at 90 % of
///   `approximate_connection_time`; with a `refreshLinger`, a connection Slack retired is
///   read and acked until Slack closes it (at most that long after its replacement is
///   live); `link_disabled` and fatal auth errors are terminal;
///   `too_many_websockets` shrinks the pool and backs off for tens of seconds or more;
/// - a connection is dead when nothing (frame, ping, matching pong) arrived for the
///   silence timeout; client pings carry payloads matched on return;
/// - closing means a close frame, a bounded wait, then abort — never a leaked socket;
/// - every envelope is acked exactly once (host, on receipt, or the ack guard), on its
///   arrival connection if still open, else on another live one, else queued — or nacked
///   by the host (`nack(_:now:)`): then nothing is acked and Slack's redelivery is
///   delivered again;
/// - de-duplication by team and event id: a redelivery of an event already acked is acked
///   and dropped; a redelivery of an event the host still holds is attached to the first
///   copy and shares its fate (acked with it, or released unacked when it is nacked), so
///   it is never delivered twice and never acked before the host took the event; an
///   envelope without an event id (slash commands, interactions) is keyed by its
///   `envelope_id` the same way;
/// - `.stop` drains: nothing new is delivered, acks the host still owes are sent, then
///   every connection closes with 1000 (`.stopNow` closes at once);
/// - with `maxPoolSize` above `poolSize`, the pool grows under sustained load and shrinks
///   when it falls (`PoolSizer`), never past `too_many_websockets`' reduction.
/// Not thread-safe: one owner (the service thread) calls it.
///
/// Not generic (the jitter generator is a concrete `SplitMix64`): a generic struct's code
/// called from another module runs unspecialized, reading every field through type
/// metadata, which cost more than the rest of the receive path.
public struct PoolController {
    /// The configuration in force (clamped to Slack's limits).
    public let configuration: PoolConfiguration
    /// The pool's lifecycle state.
    public internal(set) var state: PoolState = .idle
    /// Counters.
    public internal(set) var metrics = PoolMetrics()

    /// Backoff jitter only (nothing secret).
    var random: SplitMix64
    var connections: [ConnectionRecord] = []
    var urlRequestInFlight = false
    var retryNotBefore = Instant.zero
    var backoff: Backoff
    var tooManyWebsocketsBackoff: Backoff
    var limiter: RequestRateLimiter
    /// A `refresh_requested` arrived on the last live, non-retiring connection: one URL
    /// request may then go past `limiter` once no connection is live (the refresh left the
    /// pool deaf). Cleared by the next `hello`. Slack's own limit still answers that request
    /// (`ratelimited` with `Retry-After`, honoured as ever).
    var refreshRescue = false
    /// Connections wanted now: the sizer's size (`poolSize` when static), less after
    /// `too_many_websockets`.
    var target: Int
    /// The dynamic pool's size and load measurements.
    var sizer: PoolSizer
    /// While draining after `.stop`: when the drain gives up waiting for acks.
    var drainDeadline: Instant?
    var regrowAt: Instant?
    /// The most connections the host allows now (`.limitConnections`), nil for no limit.
    var connectionLimit: ConnectionLimit?
    var linkRetryAt: Instant?
    var failure: PoolFailure?
    var started = false
    var stopping = false
    /// The host stopped reading its connections (its consumer's queue is full): silence is
    /// then ours, not the connection's (PoolController+Backpressure).
    var intakePaused = false
    var acks: AckTracker
    var dedup: DedupWindow
    /// Acks waiting for a live connection.
    var queuedAcks: [AckMessage] = []
    var actions: [PoolAction] = []
    var actionHead = 0
    var nextTokenValue: UInt64 = 1
    var nextConnectionValue: UInt64 = 1

    /// Acks kept while no connection is live; older ones are dropped (and were late anyway).
    static var queuedAckLimit: Int { 10_000 }

    /// A pool that does nothing until `.start`.
    ///
    /// `random` draws the backoff jitter: pass a seeded one for reproducible tests; the
    /// default is seeded from the system's generator.
    public init(
        configuration: PoolConfiguration = PoolConfiguration(),
        random: SplitMix64 = SplitMix64(seed: UInt64.random(in: 0...UInt64.max)), now: Instant
    ) {
        let configuration = configuration.clamped
        self.configuration = configuration
        self.random = random
        self.backoff = configuration.backoff
        self.tooManyWebsocketsBackoff = configuration.tooManyWebsocketsBackoff
        self.limiter = RequestRateLimiter(
            burst: configuration.urlRequestBurst, refill: configuration.urlRequestRefill, now: now)
        self.target = configuration.poolSize
        self.sizer = PoolSizer(configuration)
        self.acks = AckTracker(
            deadline: configuration.ackDeadline, guardDelay: configuration.ackGuard,
            guardAwaitsTake: configuration.ackGuardAwaitsTake, attachPerEntry: configuration.maxRedeliveriesPerEvent,
            attachTotal: configuration.maxRedeliveriesHeld)
        self.dedup = DedupWindow(ttl: configuration.dedupWindow, capacity: configuration.dedupCapacity)
    }

    // MARK: Output

    /// The next thing to do, in order; `nil` when there is nothing more for now.
    public mutating func nextAction() -> PoolAction? {
        guard actionHead < actions.count else {
            if actionHead > 0 {
                actions.removeAll(keepingCapacity: true)
                actionHead = 0
            }
            return nil
        }
        defer { actionHead += 1 }
        return actions[actionHead]
    }

    func connectionIndex(_ id: ConnectionID) -> Int? { connections.firstIndex { $0.id == id } }

    /// Ids and phases of the connections the pool holds (for health reporting).
    public var connectionSummary: [(id: ConnectionID, phase: ConnectionRecord.Phase, retiring: Bool)] {
        connections.map { ($0.id, $0.phase, $0.retiring != nil) }
    }

    /// Envelopes delivered and not yet acknowledged.
    public var outstandingAcks: Int { acks.outstanding }

    /// Connections Slack is recycling (or the pool retired), open or closing: sockets beyond
    /// the pool's connections until they are gone.
    public var retiringCount: Int { connections.reduce(0) { $0 + ($1.retiring != nil ? 1 : 0) } }

    /// Connections wanted now: `poolSize`, more while a dynamic pool has grown, fewer
    /// while `too_many_websockets` holds it back, and never more than `.limitConnections` allows.
    public var poolTarget: Int { allowedTarget }

    /// Connections counting toward the target: not retiring, not closing.
    var activeCount: Int { connections.reduce(0) { $0 + ($1.retiring == nil && $1.phase != .closing ? 1 : 0) } }
    var liveCount: Int { connections.reduce(0) { $0 + ($1.phase == .live ? 1 : 0) } }

    mutating func emit(_ action: PoolAction) { actions.append(action) }

    mutating func updateState() {
        let next: PoolState
        if stopping {
            next = connections.isEmpty ? .stopped : .stopping
        } else if let failure {
            next = .failed(failure)
        } else if !started {
            next = .idle
        } else {
            let live = liveCount
            next = live > 0 ? .running(live: live, target: allowedTarget) : .connecting
        }
        if next != state {
            state = next
            emit(.stateChanged(next))
        }
    }

    // MARK: Input

    /// Feeds one lifecycle event.
    public mutating func handle(_ event: PoolEvent, now: Instant) {
        switch event {
        case .start:
            guard !started else { return }
            started = true
            sizer.start(now: now, delivered: metrics.envelopesDelivered)
        case .stop:
            beginStop(graceful: true, now: now)
        case .stopNow:
            beginStop(graceful: false, now: now)
        case .urlResponse(let result):
            urlResponse(result, now: now)
        case .opened(let id):
            opened(id, now: now)
        case .connectFailed(let id, let reason):
            if let index = connectionIndex(id) {
                let record = connections.remove(at: index)
                if !record.lossReported { lose(record.id, .connectFailed(reason), now: now) }
            }
        case .closed(let id, let code):
            closed(id, code: code, now: now)
        case .pingReceived(let id):
            if let index = connectionIndex(id) { connections[index].lastHeard = now }
        case .peerClosing(let id, let code):
            peerClosing(id, code: code, now: now)
        case .timer:
            timer(now: now)
        case .limitConnections(let limit):
            limitConnections(limit, now: now)
        }
        pump(now: now)
        finishDrainIfDone(now: now)
        updateState()
    }

    /// Opens connections while fewer than the target are active, one URL request at a time.
    mutating func pump(now: Instant) {
        guard started, !stopping, failure == nil else { return }
        if let regrowAt, now >= regrowAt {
            self.regrowAt = nil
            target = min(sizer.size, target + 1)
        }
        guard activeCount < allowedTarget, !urlRequestInFlight, now >= retryNotBefore,
            connections.count < socketBudget
        else { return }
        if !limiter.tryAcquire(now: now) {
            guard deafAfterRefresh else { return }
            refreshRescue = false
        }
        urlRequestInFlight = true
        metrics.urlRequests += 1
        emit(.requestURL)
    }

    mutating func urlResponse(_ result: ConnectionsOpenResult, now: Instant) {
        guard urlRequestInFlight else { return }  // stale: nobody asked
        urlRequestInFlight = false
        guard !stopping else { return }  // the URL is dropped unused, never reused
        switch result {
        case .url(let url):
            // Not wanted any more (the pool shrank, or too_many_websockets): dropped unused.
            guard connections.count < socketBudget, failure == nil, activeCount < allowedTarget
            else { return }
            let id = ConnectionID(rawValue: nextConnectionValue)
            nextConnectionValue += 1
            connections.append(ConnectionRecord(id: id, deadline: now + configuration.connectTimeout, now: now))
            emit(.connect(id, url: url))
        default:
            metrics.urlFailures += 1
            if result.isFatal {
                if case .apiError(let code, _) = result {
                    failure = .fatalOpenError(code)
                } else if case .httpStatus(let status, _) = result {
                    failure = .fatalOpenError("http_\(status)")
                }
                return
            }
            let retryAfter: Duration? =
                switch result {
                case .apiError(_, let after), .httpStatus(_, let after): after
                default: nil
                }
            let delay = backoff.nextDelay(retryAfter: retryAfter, using: &random)
            retryNotBefore = max(retryNotBefore, now + delay)
            emit(.notice(.openFailed(result, retryIn: delay)))
        }
    }

    mutating func opened(_ id: ConnectionID, now: Instant) {
        guard let index = connectionIndex(id), connections[index].phase == .connecting else { return }
        connections[index].phase = .awaitingHello
        connections[index].deadline = now + configuration.helloTimeout
        connections[index].lastHeard = now
    }

    mutating func closed(_ id: ConnectionID, code: UInt16?, now: Instant) {
        guard let index = connectionIndex(id) else { return }
        let record = connections.remove(at: index)
        let expected = record.phase == .closing || record.retiring != nil || stopping
        if !expected && !record.lossReported {
            lose(record.id, .closedByPeer(code), now: now)
        }
    }

    /// No connection is live, and a `refresh_requested` allows one replacement past the
    /// rate limiter.
    var deafAfterRefresh: Bool { refreshRescue && liveCount == 0 }

    /// Records an unplanned loss and schedules the next attempt with backoff.
    mutating func lose(_ id: ConnectionID, _ reason: ConnectionLoss, now: Instant) {
        metrics.connectionsLost += 1
        let delay = backoff.nextDelay(using: &random)
        retryNotBefore = max(retryNotBefore, now + delay)
        emit(.notice(.connectionLost(id, reason: reason)))
    }

    /// Sends a close frame (echoing Slack's code when Slack closed first) and arms the
    /// close timeout.
    mutating func beginClose(_ index: Int, now: Instant) {
        connections[index].phase = .closing
        connections[index].deadline = now + configuration.closeTimeout
        emit(.close(connections[index].id, code: connections[index].peerCloseCode ?? 1000))
    }

    /// Slack closed the connection: the close is echoed at once, and from now on acks owed
    /// on it go out on another live connection (Slack matches them by envelope id on any
    /// of the app's connections; a server that sent its close may ignore data that follows,
    /// as libwebsockets does). An unexpected close is a loss.
    mutating func peerClosing(_ id: ConnectionID, code: UInt16, now: Instant) {
        guard let index = connectionIndex(id), connections[index].phase != .closing else { return }
        connections[index].peerCloseCode = code
        let expected = connections[index].retiring != nil || stopping
        if !expected && !connections[index].lossReported {
            connections[index].lossReported = true
            lose(id, .closedByPeer(code), now: now)
        }
        beginClose(index, now: now)
    }

    /// Destroys the socket now; `reason`, when given, is reported as a loss.
    mutating func abort(_ index: Int, reason: ConnectionLoss?, now: Instant) {
        let id = connections[index].id
        connections[index].phase = .closing
        connections[index].deadline = nil
        if let reason, !connections[index].lossReported {
            connections[index].lossReported = true
            lose(id, reason, now: now)
        }
        emit(.abort(id))
    }
}

/// What the pool knows of one connection.
public struct ConnectionRecord: Sendable {
    /// Where a connection is in its life.
    public enum Phase: Sendable, Hashable {
        /// `.connect` was asked; waiting for `.opened`.
        case connecting
        /// Open; waiting for `hello`.
        case awaitingHello
        /// `hello` received: envelopes flow, acks can be sent.
        case live
        /// Close frame sent or abort asked; waiting for `.closed`.
        case closing
    }

    let id: ConnectionID
    var phase: Phase = .connecting
    /// When the current phase times out.
    var deadline: Instant?
    var retiring: RetireReason?
    var closeWhenReplaced = false
    /// Slack said it will close this connection (`refresh_requested`, an unknown
    /// `disconnect`): once replaced it is kept, read and acked, until Slack does.
    var slackCloses = false
    /// When the pool gives up waiting for Slack's close and closes it itself.
    var closeAt: Instant?
    /// Slack's close frame arrived with this code (echoed by `beginClose`).
    var peerCloseCode: UInt16?
    var lastHeard: Instant
    /// The last matching pong (or `hello`): the pong watchdog's reference.
    var lastPong: Instant
    var nextPingAt: Instant?
    var pingSequence: UInt64 = 0
    var refreshAt: Instant?
    var lossReported = false

    init(id: ConnectionID, deadline: Instant, now: Instant) {
        self.id = id
        self.deadline = deadline
        self.lastHeard = now
        self.lastPong = now
    }
}
