import Foundation
import Logging
import Sockeye
import SockeyeCore
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
    let metrics: AppMetrics
    /// The Socket Mode client (apps with delivery `socket` or `both`).
    private let client: SocketModeClient?
    /// Event ids taken across channels (apps with delivery `http` or `both`).
    private let claims: EventClaims?
    /// Deliveries waiting for the loop in `run`.
    private let inbox = BatchInbox(socketLimit: SocketModeOptions.defaultMaxQueuedEvents)
    private let stopping = Atomic<Bool>(false)
    private let runtime: SocketModeRuntime
    /// What each connection's hello said (host, lifetime), for the refresh log lines.
    private let helloes = Mutex<[ConnectionID: (host: String?, lifetime: Int64?)]>([:])
    /// The bot's identity once `auth.test` answered (own-message filter).
    private let identity = Mutex<BotIdentity?>(nil)
    private let router: Router
    private let sinks: [String: any EventSink]
    private let logger: Logger

    /// Builds the client (checking the token and URLs now) for `settings`, writing to `sinks`.
    public convenience init(settings: AppSettings, sinks: [String: any EventSink], runtime: SocketModeRuntime, logger: Logger)
        throws(SocketModeError) {
        try self.init(settings: settings, sinks: sinks, runtime: runtime, logger: logger,
                      claims: settings.delivery.usesHTTP ? EventClaims() : nil)
    }

    /// `claims`: the event ids the app's earlier instances took (kept across restarts by the
    /// daemon), for apps that take HTTP requests.
    init(settings: AppSettings, sinks: [String: any EventSink], runtime: SocketModeRuntime, logger: Logger,
         claims: EventClaims?) throws(SocketModeError) {
        self.settings = settings
        signingSecretBytes = Array((settings.signingSecret ?? "").utf8)
        ingressCounters = settings.delivery.usesHTTP ? IngressCounters(app: settings.name) : nil
        self.runtime = runtime
        self.router = Router(routes: settings.routes)
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
        if settings.delivery.usesSocket {
            let client = try SocketModeClient(appToken: settings.appToken, options: options, logger: appLogger)
            self.client = client
            // Subscribed now, before the first hello can arrive: notices are not replayed.
            notices = client.notices
        } else {
            client = nil
            notices = nil
        }
        self.claims = settings.delivery.usesHTTP ? claims : nil
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
        let watchers = Task { [self] in
            await withTaskGroup(of: Void.self) { group in
                if let notices = self.notices, let client = self.client {
                    group.addTask { for await notice in notices { self.observe(notice) } }
                    group.addTask { for await state in client.states { self.status.setState(AppState(state)) } }
                } else {
                    self.status.setState(.runningHTTP(eventsPath: self.settings.ingress.eventsPath))
                }
                group.addTask { await self.sampleClientCounters() }
            }
        }
        // The watchers end before `run` returns: a late state must not overwrite what the
        // supervisor records next (restarting, disabled).
        do {
            try await consume()
        } catch {
            await drainHTTP()
            watchers.cancel()
            await watchers.value
            throw error
        }
        await drainHTTP()
        watchers.cancel()
        await watchers.value
        logger.info("stopped")
    }

    /// Routes batches until the client's events end (see `run`).
    private func consume() async throws {
        logger.info("connecting", metadata: ["api": .string(Redaction.url(settings.apiURL)), "pool_size": .stringConvertible(settings.poolSize)])
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

    /// Asks `auth.test` who the bot is, for the own-message filter, for at most 10 s (events
    /// wait meanwhile). A failure is logged and shown on the status page; events are then not
    /// filtered (never dropped by mistake).
    private func learnIdentity(_ token: String) async {
        let (settings, runtime) = (self.settings, self.runtime)
        let answer: Result<BotIdentity, WebAPIError> = await withTaskGroup(of: Result<BotIdentity, WebAPIError>?.self) { group in
            group.addTask {
                do throws(WebAPIError) {
                    return .success(try await BotIdentity.fetch(token: token, apiURL: settings.apiURL, runtime: runtime))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return Task.isCancelled ? nil : .failure(.transport("no answer within 10 s"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.transport("no answer"))
        }
        do {
            let found = try answer.get()
            identity.withLock { $0 = found }
            logger.info("bot identity", metadata: ["team": .string(found.teamID ?? "-"), "user_id": .string(found.userID ?? "-"),
                                                   "bot_id": .string(found.botID ?? "-")])
        } catch {
            logger.error("auth.test failed: the app's own messages are not filtered", metadata: ["error": .string(error.description)])
            status.error("auth.test: \(error.description) (own messages not filtered)")
        }
    }

    /// Whether the bot itself authored `record`.
    private func isOwn(_ record: EventRecord, _ bot: BotIdentity?) -> Bool {
        guard let bot, record.envelopeType == "events_api" else { return false }
        if let botID = bot.botID, record.botID == botID { return true }
        if let userID = bot.userID, record.user == userID { return true }
        return false
    }

    /// Acks `event`, with a sink's response payload when the envelope accepts one; a response
    /// Slack would refuse (not one JSON object, too big) is logged and the ack goes without it.
    private func ack(_ event: SocketModeEvent, response: [UInt8]?) throws(SocketModeError) {
        guard let response, event.acceptsResponsePayload else { return try event.ack(payloadBytes: nil) }
        do {
            try event.ack(payloadBytes: response)
        } catch .invalidAckPayload(let problem) {
            logger.warning("a sink's response payload was refused; acked without it",
                           metadata: ["envelope_id": .string(event.envelopeID), "error": .string("\(problem)")])
            status.error("response payload refused: \(problem)")
            try event.ack(payloadBytes: nil)
        }
    }

    /// Copies the client's counters into metrics once a second (deltas for counters).
    private func sampleClientCounters() async {
        var lastDuplicates = 0
        var lastRedelivered = 0
        var lastReceived = counters.snapshot.received
        var lastTime = ContinuousClock.now
        while !Task.isCancelled {
            let stats = clientStats
            let received = counters.snapshot.received
            let now = ContinuousClock.now
            let elapsed = Double(Self.nanoseconds(now - lastTime)) / 1e9
            if elapsed > 0 { status.setRate(Double(received - lastReceived) / elapsed) }
            lastReceived = received
            lastTime = now
            metrics.deduplicated.increment(by: max(0, stats.pool.duplicatesDropped - lastDuplicates))
            metrics.redelivered.increment(by: max(0, stats.pool.redeliveriesReceived - lastRedelivered))
            lastDuplicates = stats.pool.duplicatesDropped
            lastRedelivered = stats.pool.redeliveriesReceived
            metrics.liveConnections.record(stats.liveConnections)
            metrics.wantedConnections.record(stats.targetConnections)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Keeps what the status page and the metrics need from a notice (the client logs it).
    private func observe(_ notice: SocketModeNotice) {
        switch notice {
        case .pool(.retiring(let id, let reason)):
            status.refreshed("\(reason)")
            // Every refresh is logged with the host and lifetime its hello announced.
            let served = helloes.withLock { $0[id] }
            logger.info("refreshing connection", metadata: [
                "connection": .string(id.description), "reason": .string("\(reason)"), "host": .string(served?.host ?? "-"),
                "approximate_connection_time": .string(served?.lifetime.map { "\($0) s" } ?? "-"),
            ])
        case .pool(.hello(let id, _, let lifetime, let host)):
            status.hello(connectionTime: lifetime)
            helloes.withLock {
                $0[id] = (host, lifetime)
                if $0.count > 64 { $0.removeValue(forKey: $0.keys.min()!) }
            }
        case .pool(.connectionLost(let id, let reason)):
            metrics.reconnect(reason: Self.label(reason))
            status.error("\(id) lost: \(reason)")
        case .pool(.openFailed(let result, _)):
            let code: String =
                switch result {
                case .apiError(let error, _): error
                case .httpStatus(let http, _): "http_\(http)"
                case .transportFailure: "transport"
                case .url: "none"
                }
            metrics.openError(code: code)
            status.error("apps.connections.open: \(code)")
        case .pool(.tooManyWebsockets):
            status.error("too_many_websockets")
        case .transport(let error):
            status.error(error.description)
        case .protocolViolation(_, let error):
            status.error(error.description)
        default:
            break
        }
    }

    /// A metric label for a loss reason (no free text in labels).
    static func label(_ reason: ConnectionLoss) -> String {
        switch reason {
        case .connectTimeout: "connect_timeout"
        case .connectFailed: "connect_failed"
        case .helloTimeout: "hello_timeout"
        case .silence: "silence"
        case .pongTimeout: "pong_timeout"
        case .closedByPeer(let code): code.map { "closed_\($0)" } ?? "closed"
        }
    }

    private func handle(_ batch: [Inbound]) async {
        let now = Timestamp.nowMilliseconds()
        let receivedAt = Timestamp.iso8601(milliseconds: now)
        let records = batch.map { inbound -> EventRecord in
            switch inbound {
            case .socket(let event): EventRecord(event, app: settings.name, receivedAtMilliseconds: now, receivedAt: receivedAt)
            case .http(let record, _): record
            }
        }
        var byType: [String: Int] = [:]
        for record in records { byType[record.envelopeType, default: 0] += 1 }
        for (type, count) in byType { metrics.received(count, type: type) }
        // Which records each sink gets, in batch order.
        var perSink: [String: [Int]] = [:]
        var unrouted = 0
        var own = 0
        var refused = Set<Int>()
        // Answered without the sinks: taken before (acked) or in the sinks now (nacked).
        var settled: [Int: Bool] = [:]
        var claimed: [Int: String] = [:]
        let clock = Timestamp.monotonicSeconds()
        let bot = settings.ignoreOwnMessages ? identity.withLock { $0 } : nil
        for (index, record) in records.enumerated() {
            if let claims, let key = EventClaims.key(record) {
                switch claims.claim(key, now: clock) {
                case .new: claimed[index] = key
                case .done:
                    settled[index] = true
                    continue
                case .pending:
                    settled[index] = false
                    continue
                }
            }
            if isOwn(record, bot) {
                own += 1
                continue
            }
            let chosen = router.sinks(for: record)
            if chosen.isEmpty { unrouted += 1 }
            for name in chosen { perSink[name, default: []].append(index) }
        }
        var failures: [String] = []
        var responses: [Int: [UInt8]] = [:]
        func collect(_ indices: [Int], _ outcome: SinkOutcome) {
            for position in outcome.refused { refused.insert(indices[position]) }
            for (position, response) in outcome.responses { responses[indices[position]] = response }
            if let error = outcome.error { failures.append(error) }
        }
        if perSink.count == 1, let (name, indices) = perSink.first, let sink = sinks[name] {
            // One sink (the common case): no child task, one thread hop fewer per batch.
            let started = ContinuousClock.now
            let outcome = await sink.accept(indices.count == records.count ? records : indices.map { records[$0] })
            AppMetrics.sink(name, seconds: ContinuousClock.now - started, failed: !outcome.refused.isEmpty)
            collect(indices, outcome)
        } else {
            await withTaskGroup(of: (indices: [Int], outcome: SinkOutcome).self) { group in
                for (name, indices) in perSink {
                    guard let sink = sinks[name] else { continue }
                    let part = indices.map { records[$0] }
                    group.addTask {
                        let started = ContinuousClock.now
                        let outcome = await sink.accept(part)
                        AppMetrics.sink(name, seconds: ContinuousClock.now - started, failed: !outcome.refused.isEmpty)
                        return (indices, outcome)
                    }
                }
                for await (indices, outcome) in group { collect(indices, outcome) }
            }
        }
        var acked = 0
        var nacked = 0
        let onReceipt = settings.ack == .onReceipt
        for (index, inbound) in batch.enumerated() {
            let take = settled[index] ?? !refused.contains(index)
            if let key = claimed[index] { claims?.finish(key, taken: take, now: clock) }
            switch inbound {
            case .socket(let event):
                if onReceipt {
                    acked += 1
                    continue
                }
                do {
                    if take {
                        try ack(event, response: responses[index])
                        acked += 1
                        metrics.ackLatency.recordNanoseconds(Self.nanoseconds(event.age))
                    } else {
                        try event.nack()
                        nacked += 1
                    }
                } catch {
                    logger.warning("could not answer an event", metadata: ["envelope_id": .string(records[index].envelopeID), "error": .string("\(error)")])
                }
            case .http(_, let reply):
                if take {
                    reply.answer(.ack(response: records[index].acceptsResponsePayload ? responses[index] : nil))
                    acked += 1
                } else {
                    reply.answer(.nack(settled[index] == false ? "the same event is in the sinks now" : failures.first ?? "a sink refused it"))
                    nacked += 1
                }
            }
        }
        let duplicates = settled.count
        for failure in failures {
            logger.error("sink refused events: they were nacked and Slack will redeliver them", metadata: ["error": .string(failure)])
            status.error(failure)
        }
        metrics.acked.increment(by: acked)
        metrics.nacked.increment(by: nacked)
        metrics.unrouted.increment(by: unrouted)
        if duplicates > 0 { metrics.deduplicated.increment(by: duplicates) }
        counters.update {
            $0.received += batch.count
            $0.acked += acked
            $0.nacked += nacked
            $0.unrouted += unrouted
            $0.ownMessages += own
            $0.duplicates += duplicates
            $0.sinkFailures += failures.count
            if let last = failures.last { $0.lastError = last }
        }
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds &* 1_000_000_000 &+ duration.components.attoseconds / 1_000_000_000
    }
}

/// One delivery for the runner: an envelope from the Socket Mode client, or an HTTP
/// request's event with the reply its listener waits for.
enum Inbound: Sendable {
    case socket(SocketModeEvent)
    case http(EventRecord, HTTPReply)
}

/// Deliveries merged into batches while the runner is busy: `put` never waits (HTTP
/// requests, bounded by the listener), `putWaiting` waits while `socketLimit` deliveries
/// are queued (the Socket Mode reader), `takeAll` returns everything queued (waiting when
/// nothing is), and `nil` once finished.
final class BatchInbox: Sendable {
    /// Queued deliveries at which `putWaiting` waits.
    let socketLimit: Int

    /// An inbox whose reader waits at `socketLimit` queued deliveries (at least 1).
    init(socketLimit: Int = SocketModeOptions.defaultMaxQueuedEvents) {
        self.socketLimit = max(1, socketLimit)
    }

    private struct State {
        var items: [Inbound] = []
        var waiter: CheckedContinuation<Void, Never>?
        /// The reader waiting for room (`putWaiting`).
        var spaceWaiter: CheckedContinuation<Void, Never>?
        var finished = false
        var error: (any Error)?
    }
    private let state = Mutex(State())

    /// Queues `batch`; false (nothing queued) once the inbox is finished.
    @discardableResult
    func put(_ batch: [Inbound]) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.items.append(contentsOf: batch)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// `put`, once fewer than `socketLimit` deliveries are queued (or the inbox finished).
    /// One caller at a time (the Socket Mode reader).
    @discardableResult
    func putWaiting(_ batch: [Inbound]) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.items.count < socketLimit || state.finished { return true }
                state.spaceWaiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return put(batch)
    }

    /// Queued deliveries.
    var count: Int { state.withLock { $0.items.count } }

    /// No more deliveries after those queued (`error`: the client failed for good).
    func finish(_ error: (any Error)?) {
        let (waiter, spaceWaiter) = state.withLock { state -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            state.error = error
            defer { state.waiter = nil; state.spaceWaiter = nil }
            return (state.waiter, state.spaceWaiter)
        }
        waiter?.resume()
        spaceWaiter?.resume()
    }

    /// Everything queued, waiting for some if none; nil at the end.
    func takeAll() async throws -> [Inbound]? {
        while true {
            let taken = state.withLock { state -> (items: [Inbound], done: Bool, error: (any Error)?, space: CheckedContinuation<Void, Never>?) in
                let items = state.items
                state.items.removeAll(keepingCapacity: true)
                defer { state.spaceWaiter = nil }
                return (items, state.finished, state.error, state.spaceWaiter)
            }
            taken.space?.resume()
            if !taken.items.isEmpty { return taken.items }
            if taken.done {
                if let error = taken.error { throw error }
                return nil
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.items.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
