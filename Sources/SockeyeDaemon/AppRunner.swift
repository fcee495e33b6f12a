import Foundation
import Logging
import Sockeye
import SockeyeSinkKit
import Synchronization

/// Runs one configured app: its Socket Mode client, and the loop that routes each batch of
/// events to its sinks and then acks what every sink accepted and nacks the rest.
///
/// Events are handled a batch at a time (the envelopes that arrived since the last batch was
/// taken): each sink gets its part of the batch in one call (one write, one transaction),
/// sinks run concurrently, and the batch's acks go out together. A few batches may be in the
/// sinks at once, so a sink's lines keep receipt order within a batch, not across batches. `stop()` drains: no new envelopes, in-flight batches finish
/// and are acked, connections close with 1000.
public final class AppRunner: Sendable {
    public let settings: AppSettings
    /// The signing secret's bytes (HTTP ingress), empty when none is set.
    public let signingSecretBytes: [UInt8]
    /// The ingress's request counters (apps that take HTTP requests).
    public let ingressCounters: IngressCounters?
    public let counters = AppCounters()
    /// State, last refresh, recent errors (for the status page).
    public let status = AppStatus()
    /// The app's history for the status page's charts (kept by the daemon across restarts).
    let history: AppHistoryRecorder
    let metrics: AppMetrics
    /// The Socket Mode client (apps with delivery `socket` or `both`).
    private let client: SocketModeClient?
    /// In a cluster: this node's share of the app's connections (the client connects only
    /// as far as it grants).
    let share: (any ConnectionShare)?
    /// Event ids taken across channels (apps with delivery `http` or `both`).
    let claims: EventClaims?
    /// Deliveries waiting for the loop in `run`.
    private let inbox = BatchInbox(socketLimit: SocketModeOptions.defaultMaxQueuedEvents)
    private let stopping = Atomic<Bool>(false)
    let runtime: SocketModeRuntime
    /// What each connection's hello said (host, lifetime), for the refresh log lines.
    let helloes = Mutex<[ConnectionID: (host: String?, lifetime: Int64?)]>([:])
    /// The bot's identity once `auth.test` answered (own-message filter).
    let identity = Mutex<BotIdentity?>(nil)
    /// The installations of an app installed by OAuth; nil for the others.
    public let installations: AppInstallations?
    /// Finds each event's installation (apps installed by OAuth); nil for the others.
    public var authorizer: (any EventAuthorizer)? { installations?.directory }
    /// The decisions for each batch (see `handle`).
    let planner: BatchPlanner
    let sinks: [String: any EventSink]
    let logger: Logger

    /// Builds the client (checking the token and URLs now) for `settings`, writing to `sinks`.
    public convenience init(settings: AppSettings, sinks: [String: any EventSink], runtime: SocketModeRuntime, logger: Logger)
        throws(SocketModeError) {
        try self.init(settings: settings, sinks: sinks, runtime: runtime, logger: logger,
                      claims: settings.delivery.usesHTTP ? EventClaims() : nil, share: nil)
    }

    /// `claims`: the event ids the app's earlier instances took (kept across restarts by the
    /// daemon), for apps that take HTTP requests; `history`: the app's earlier instances'
    /// history (a new one when nil).
    init(settings: AppSettings, sinks: [String: any EventSink], runtime: SocketModeRuntime, logger: Logger,
         claims: EventClaims?, share: (any ConnectionShare)?, installations: AppInstallations? = nil,
         history: AppHistoryRecorder? = nil) throws(SocketModeError) {
        self.settings = settings
        self.history = history ?? AppHistoryRecorder(intervalMilliseconds: DaemonConfiguration.defaultHistoryIntervalMilliseconds)
        self.installations = installations
        signingSecretBytes = Array((settings.signingSecret ?? "").utf8)
        ingressCounters = settings.delivery.usesHTTP ? IngressCounters(app: settings.name) : nil
        self.runtime = runtime
        self.sinks = sinks
        metrics = AppMetrics(app: settings.name)
        var appLogger = logger
        appLogger[metadataKey: "app"] = .string(settings.name)
        self.logger = appLogger
        var options = SocketModeOptions()
        options.apiBaseURL = settings.apiURL
        options.poolSize = settings.poolSize
        options.maxPoolSize = settings.maxPoolSize
        options.ackMode = settings.ack == .onReceipt ? .onReceipt : .manual
        // After sinks, an event is acked only once it is safe: no guard may ack it earlier
        // (a slow sink costs a redelivery, which de-duplication then holds, never a loss).
        if settings.ack == .afterSinks { options.ackGuard = nil }
        options.runtime = runtime
        if share != nil {
            // In a cluster, slots move between nodes (a node dies, stalls, joins), and each
            // move costs an `apps.connections.open` call on the node taking it: the local
            // guard refills faster (a call every 6 s after the burst of 10, not every
            // minute). Slack's own limit is per app, and its `ratelimited` answer with
            // `Retry-After` holds every node back (`ConnectionShare.backOff`).
            options.pool.urlRequestRefill = .seconds(6)
        }
        if settings.delivery.usesSocket {
            let client = try SocketModeClient(appToken: settings.appToken, options: options, logger: appLogger)
            // Shared: nothing opens until the share grants slots.
            if share != nil { client.limitConnections(to: 0) }
            self.client = client
            // Subscribed now, before the first hello can arrive: notices are not replayed.
            notices = client.notices
        } else {
            client = nil
            notices = nil
        }
        self.share = client == nil ? nil : share
        self.claims = settings.delivery.usesHTTP ? claims : nil
        planner = BatchPlanner(router: Router(routes: settings.routes), claims: self.claims, acksOnReceipt: settings.ack == .onReceipt,
                               filtersInstallationBots: settings.oauth != nil && settings.ignoreOwnMessages)
    }

    /// How many batches may be in the sinks at once (see `run`).
    static let batchesInFlight = 8
    /// Batches this small are handled by the loop itself (see `consume`).
    static let inlineBatchLimit = 4

    /// The client's notices since it was made (read by `run`).
    private let notices: AsyncStream<SocketModeNotice>?

    /// The client's counters (connections, duplicates, reconnects …).
    public var clientStats: SocketModeStats { client?.stats ?? SocketModeStats() }

    /// Whether the app can take events now: a live Socket Mode connection, or (HTTP only)
    /// running; never while disabled or restarting (see `AppState.isReady`).
    public var isReady: Bool {
        status.snapshot.state.isReady(liveConnections: clientStats.liveConnections)
    }

    /// Takes one HTTP request's event (the ingress, after the signature check) without
    /// waiting: it joins the batch loop with whatever else arrived meanwhile (one sink write
    /// or spool transaction for all of them), and `onAnswer` is called once the sinks are
    /// done: `ack` (with the response payload of a slash command or interaction, if a sink
    /// gave one) or `nack` — at once when the app is stopping. `stop()` waits for requests
    /// in progress.
    public func submit(_ record: EventRecord, onAnswer: @escaping @Sendable (HTTPReply.Answer) -> Void) {
        submit([(record, onAnswer)])
    }

    /// `submit` for several requests at once (those one read of the listener's event loop
    /// brought): they join the batch loop together, with one wake-up.
    public func submit(_ requests: [(record: EventRecord, onAnswer: @Sendable (HTTPReply.Answer) -> Void)]) {
        guard !stopping.load(ordering: .sequentiallyConsistent) else {
            for request in requests { request.onAnswer(.nack("the app is stopping")) }
            return
        }
        httpInProgress.add(requests.count, ordering: .sequentiallyConsistent)
        var inbound: [Inbound] = []
        inbound.reserveCapacity(requests.count)
        for request in requests {
            let onAnswer = request.onAnswer
            inbound.append(.http(request.record, HTTPReply { [self] answer in
                self.httpInProgress.subtract(1, ordering: .sequentiallyConsistent)
                onAnswer(answer)
            }))
        }
        if !inbox.put(inbound) {
            for case .http(_, let reply) in inbound { reply.answer(.nack("the app is stopping")) }
        }
    }

    /// HTTP requests submitted and not answered yet.
    private let httpInProgress = Atomic<Int>(0)

    /// Waits (at most `limit`) until no HTTP request is in the sinks.
    private func drainHTTP(limit: Duration = .seconds(10)) async {
        let deadline = ContinuousClock.now + limit
        while httpInProgress.load(ordering: .sequentiallyConsistent) > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Consumes events until the client stops (after `stop()`) or fails for good; a fatal
    /// failure (a bad token, `link_disabled`) is thrown.
    public func run() async throws {
        if let share, let client {
            share.start(wanted: settings.maxPoolSize ?? settings.poolSize,
                        pool: { PoolView(live: client.stats.liveConnections, replacing: client.stats.replacingConnections) },
                        grant: { limit in client.limitConnections(to: limit.connections, spare: limit.spare) })
        }
        let watchers = Task { [self] in
            await withTaskGroup(of: Void.self) { group in
                if let notices = self.notices, let client = self.client {
                    group.addTask { for await notice in notices { self.observe(notice) } }
                    group.addTask { for await state in client.states { self.status.setState(AppState(state)) } }
                } else {
                    self.status.setState(.runningHTTP(eventsPath: self.settings.ingress.eventsPath))
                }
                group.addTask { await self.sampleClientCounters() }
                // Token rotation of an app installed by OAuth: ends with the watchers.
                if let installations = self.installations {
                    group.addTask { await installations.runRotation() }
                    group.addTask { await installations.runSharing() }
                    group.addTask { await installations.runHealthChecks() }
                }
            }
        }
        // The watchers end before `run` returns: a late state must not overwrite what the
        // supervisor records next (restarting, disabled).
        do {
            try await consume()
        } catch {
            await share?.stop()
            await drainHTTP()
            watchers.cancel()
            await watchers.value
            throw error
        }
        // The client stopped, its connections are closed: their slots go back to the cluster.
        await share?.stop()
        await drainHTTP()
        watchers.cancel()
        await watchers.value
        logger.info("stopped")
    }

    /// Routes batches until the client's events end (see `run`).
    private func consume() async throws {
        logger.info("connecting", metadata: ["api": .string(URLRedaction.url(settings.apiURL)), "pool_size": .stringConvertible(settings.poolSize)])
        if settings.ignoreOwnMessages, let token = settings.botToken {
            await learnIdentity(token)
        }
        // Reads that arrive while a batch is in the sinks (a spool commit's fsync) join the
        // next batch: the sinks get one write or transaction for all of them. (HTTP requests
        // join the same batches: see `submit`.)
        let inbox = self.inbox
        let reader = Task { [client, settings] in
            guard let client else { return }
            do {
                for try await batch in client.eventBatches {
                    var inbound: [Inbound] = []
                    inbound.reserveCapacity(batch.count)
                    for event in batch { inbound.append(.socket(event)) }
                    // Waits while the inbox is full: the client's stream then fills, and
                    // the client stops reading its connections (backpressure up to Slack).
                    await inbox.putWaiting(inbound)
                }
                // With HTTP too, the inbox ends at `stop()`.
                if !settings.delivery.usesHTTP { inbox.finish(nil) }
            } catch {
                inbox.finish(error)
            }
        }
        defer { reader.cancel() }
        // Up to `batchesInFlight` batches are in the sinks at once, so the next batch is read,
        // normalized and handed over while a spool commit's fsync runs (the spool then
        // commits the waiting batches together). Acks go out per batch, as each finishes.
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            while let batch = try await inbox.takeAll() {
                // A few events (a quiet app): handled here, without a task of their own (a
                // thread hop fewer); what arrives meanwhile makes the next batch.
                if batch.count <= Self.inlineBatchLimit {
                    await handle(batch)
                    continue
                }
                if running == Self.batchesInFlight {
                    try await group.next()
                    running -= 1
                }
                group.addTask { await self.handle(batch) }
                running += 1
            }
            try await group.waitForAll()
        }
    }

    /// Stops taking envelopes, lets the batch in hand finish, flushes acks and closes the
    /// connections with 1000. Returns once the client stopped.
    public func stop() async {
        stopping.store(true, ordering: .relaxed)
        await client?.stop()
        inbox.finish(nil)
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds &* 1_000_000_000 &+ duration.components.attoseconds / 1_000_000_000
    }
}
