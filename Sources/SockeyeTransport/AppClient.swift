import CLibWebSockets
import SockeyeCore

/// One Slack app's Socket Mode client: the core's pool controller driven by real sockets.
///
/// Threading: `start`, `stop`, `ack`, `nack` and `stats` may be called from any thread; they
/// queue work for the runtime's service thread, which does everything else: the pool, the
/// codecs, the sockets, the timer. Callbacks run on that thread.
public final class AppClient: @unchecked Sendable {
    let runtime: TransportRuntime
    let configuration: ClientConfiguration
    let callbacks: ClientCallbacks
    let apiBase: EndpointURL
    let proxySettings: ProxySettings
    let tls: TLSConfiguration
    var userAgent: String { configuration.userAgent }
    var maxMessageSize: Int { configuration.maxMessageSize }
    private let published = Locked(SocketModeStats())

    // Service-thread state.
    private var pool: PoolController
    private var links: [ConnectionID: SocketLink] = [:]
    /// The link `link(_:)` found last (may have left `links`: check it is not ended).
    private var recentLink: SocketLink?
    private var exchange: ConnectionsOpenExchange?
    private var dirtyLinks: [SocketLink] = []
    private var counters = SocketModeStats()
    private let timer: ServiceTimer
    private var armedAt: Instant?
    private var registered = false
    private var finished = false
    /// A limit given before `start` (service thread), applied as the pool starts.
    private var limitBeforeStart: ConnectionLimit??
    /// The frame whose `.deliver` actions are being drained (views index into it).
    private var currentFrame = UnsafeRawBufferPointer(start: nil, count: 0)
    /// When `currentFrame` was received (monotonic nanoseconds).
    private var currentFrameTime: UInt64 = 0
    var maskRandom = MaskKeyGenerator()
    /// Counts the consumer's queue and says when to stop and resume reading (nil when the
    /// host has no queue).
    private var intake: IntakeGate?
    /// Whether envelopes were handed to the host since the last `batchEnd`.
    private var deliveredInBatch = false
    /// Set while the runtime's command batch has touched this client.
    var inBatch = false

    /// A client for one app on `runtime`. Checks the URLs, proxy settings and CA file now,
    /// so a mistake fails here, before any connection.
    public init(runtime: TransportRuntime, configuration: ClientConfiguration, callbacks: ClientCallbacks,
                environment: [String: String] = [:]) throws(TransportError) {
        self.runtime = runtime
        self.configuration = configuration
        self.callbacks = callbacks
        do {
            apiBase = try EndpointURL(configuration.apiBaseURL)
        } catch {
            throw .invalidURL("API base URL '\(URLRedaction.maskingPassword(configuration.apiBaseURL))': \(error.description)")
        }
        guard apiBase.scheme == .https || apiBase.scheme == .http else {
            throw .invalidURL("API base URL '\(apiBase)' must be http:// or https://")
        }
        if let explicit = configuration.proxy {
            do {
                proxySettings = try explicit.validated()
            } catch {
                throw .invalidURL("proxy setting: \(error.description)")
            }
        } else {
            do {
                proxySettings = try ProxySettings(environment: environment)
            } catch {
                throw .invalidURL("proxy setting: \(error.description)")
            }
        }
        guard TransportRuntime.webAPITimeoutRange.contains(configuration.webAPITimeout) else {
            throw .invalidSetting("webAPITimeout \(configuration.webAPITimeout) is outside 0.1…300 s")
        }
        tls = try TLSConfiguration(caFile: configuration.caFile ?? environment["SSL_CERT_FILE"])
        pool = PoolController(configuration: configuration.pool, now: Instant(nanoseconds: MonotonicClock.now()))
        intake = configuration.maxQueuedEvents.map {
            let range = ClientConfiguration.maxQueuedEventsRange
            return IntakeGate(limit: min(max($0, range.lowerBound), range.upperBound))
        }
        timer = ServiceTimer(runtime: runtime)
    }

    /// The pool timer is cancelled whenever the client ends (`finish`, `shutdownNow`), and
    /// the runtime holds the client until then; this only makes sure of it.
    deinit { timer.cancel() }

    // MARK: Any thread

    /// Starts connecting.
    public func start() {
        runtime.async { [self] in
            guard !registered, !finished else { return }
            registered = true
            runtime.clients[ObjectIdentifier(self)] = self
            if let limit = limitBeforeStart { pool.handle(.limitConnections(limit), now: now()) }
            pool.handle(.start, now: now())
            afterBatch()
        }
    }

    /// Stops: with `drain`, new envelopes are refused, unacknowledged ones may still be acked
    /// (up to the drain timeout), then every connection closes with 1000; without, at once.
    /// The state callback reports `.stopped` at the end.
    public func stop(drain: Bool = true) {
        runtime.async { [self] in
            guard registered, !finished else { return }
            pool.handle(drain ? .stop : .stopNow, now: now())
            exchange?.cancel()
            exchange = nil
            afterBatch()
        }
    }

    /// Holds at most `limit` connections from now on (nil: no limit but the configuration's):
    /// those over a lower limit close at once (`PoolEvent.limitConnections`). Given before
    /// `start`, it applies from the first connection. Any thread.
    public func limitConnections(to count: ConnectionLimit?) {
        runtime.async { [self] in
            guard !finished else { return }
            guard registered else {
                limitBeforeStart = .some(count)
                return
            }
            pool.handle(.limitConnections(count), now: now())
            afterBatch()
        }
    }

    /// Acknowledges an envelope, with an optional response payload (a JSON object, already
    /// validated by the caller). Any thread.
    public func ack(_ token: DeliveryToken, payload: [UInt8]? = nil) {
        runtime.enqueue(.ack(self, token, payload))
    }

    /// Declines an envelope: it is not acked, so Slack redelivers it, and the redelivery is
    /// delivered again. Any thread.
    public func nack(_ token: DeliveryToken) {
        runtime.enqueue(.nack(self, token))
    }

    /// The host's consumer took the delivery out of the queue it waited in: from now on the
    /// ack guard may ack it (with `PoolConfiguration.ackGuardAwaitsTake`). Any thread.
    public func taken(_ token: DeliveryToken) {
        runtime.enqueue(.taken(self, token))
    }

    /// Hands the caller's reference to `received`'s frame to the service thread, which lets
    /// go of it there, so the memory is freed by the thread that allocated it (see
    /// `ServiceThreadReleases`); for a host's event object as it ends. When the service
    /// thread cannot take it (the runtime has ended, too much is waiting, or the caller is
    /// the service thread) the reference simply goes with the caller's. Any thread.
    public func letGoOnServiceThread(_ received: ReceivedEnvelope) {
        guard !runtime.isServiceThread else { return }
        let reference = Unmanaged<AnyObject>.passRetained(received.storage)
        if !runtime.releases.give(.reference(reference), byteCount: received.storage.header.frameCount) {
            reference.release()
        }
    }

    /// Frees `memory`, a `malloc` block of about `byteCount` bytes made on the service thread,
    /// on that thread (see `letGoOnServiceThread`), or here when it cannot take it. The
    /// caller must not touch `memory` again. Any thread.
    public func freeOnServiceThread(_ memory: UnsafeMutableRawPointer, byteCount: Int) {
        if runtime.isServiceThread || !runtime.releases.give(.memory(memory), byteCount: byteCount) { free(memory) }
    }

    /// The latest counters (published after each batch of work).
    public var stats: SocketModeStats { published.snapshot }

    // MARK: Service thread

    private func now() -> Instant { Instant(nanoseconds: MonotonicClock.now()) }

    /// Performs a host's ack; `time` is the clock reading of the command batch.
    func ackNow(_ token: DeliveryToken, payload: [UInt8]?, at time: Instant) {
        counters.hostAcks += 1
        let outcome: AckOutcome =
            if let payload {
                payload.withUnsafeBytes { pool.ack(token, payload: $0, now: time) }
            } else {
                pool.ack(token, now: time)
            }
        switch outcome {
        case .accepted: break
        case .late:
            counters.lateAcks += 1
            callbacks.notice(.lateAck(token))
        case .alreadyAcked, .unknown, .rejected:
            counters.staleAcks += 1
        }
        performActions()
    }

    /// Performs a host's `taken` (the guard acks at once a delivery taken past its time).
    func takenNow(_ token: DeliveryToken, at time: Instant) {
        pool.taken(token, now: time)
        performActions()
        if intake?.taken() == true { setIntake(reading: true, at: time) }
    }

    /// Stops or resumes reading every connection the pool has live (one still waiting for
    /// `hello` is read: it carries no events yet, and its deadline would pass unread).
    private func setIntake(reading: Bool, at time: Instant) {
        pool.setIntakePaused(!reading, now: time)
        if !finished { runtime.intakePaused(!reading) }
        applyIntake()
    }

    /// Puts the links in the reading state the gate asks for (after a link became live).
    private func applyIntake() {
        guard let intake else { return }
        if !intake.paused {
            for link in links.values { link.conduit.setReading(true) }
            return
        }
        for summary in pool.connectionSummary where summary.phase == .live {
            links[summary.id]?.conduit.setReading(false)
        }
    }

    func nackNow(_ token: DeliveryToken, at time: Instant) {
        counters.hostNacks += 1
        _ = pool.nack(token, now: time)
        performActions()
    }

    /// Feeds a text message to the pool. Returns false when the message is not valid UTF-8
    /// (the decoder leaves that check to the scanner, and it is made only when a scan
    /// fails): the link must then fail with 1007.
    func receive(frame: UnsafeRawBufferPointer, on link: SocketLink) -> Bool {
        counters.bytesReceived += frame.count
        let time = now()
        let scanned = pool.receive(frame: frame, on: link.id, now: time)
        currentFrame = frame
        currentFrameTime = time.nanoseconds
        performActions()
        currentFrame = UnsafeRawBufferPointer(start: nil, count: 0)
        return scanned || WebSocketUTF8.isValid(frame)
    }

    func pingReceived(on link: SocketLink) {
        pool.handle(.pingReceived(link.id), now: now())
        markDirty(link)
        performActions()
    }

    /// Slack's close frame arrived on `link`: the pool answers it (`.close`) and moves acks
    /// owed there to another connection. A link the pool no longer tracks is answered here.
    func peerClosing(_ link: SocketLink, code: UInt16) {
        guard pool.connectionSummary.contains(where: { $0.id == link.id }) else { return link.close(code: code) }
        pool.handle(.peerClosing(link.id, code: code), now: now())
        performActions()
    }

    func pongReceived(_ payload: UnsafeRawBufferPointer, on link: SocketLink) {
        pool.receivePong(payload, on: link.id, now: now())
    }

    func linkOpened(_ link: SocketLink) {
        pool.handle(.opened(link.id), now: now())
        performActions()
    }

    func linkEnded(_ link: SocketLink, wasOpen: Bool, closeCode: UInt16?, error: TransportError?) {
        guard links.removeValue(forKey: link.id) != nil else { return }
        if recentLink === link { recentLink = nil }
        if wasOpen {
            pool.handle(.closed(link.id, code: closeCode), now: now())
        } else {
            pool.handle(.connectFailed(link.id, reason: error?.description ?? "closed before the upgrade"), now: now())
        }
        if !link.unwrittenAcks.isEmpty {
            pool.resendUnwritten(link.unwrittenAcks, from: link.id, now: now())
            link.unwrittenAcks.removeAll()
        }
        performActions()
        afterBatch()
    }

    func noteTransportError(_ error: TransportError) {
        counters.transportErrors += 1
        if case .timeout = error { counters.timeouts += 1 }
        counters.lastError = error.description
        callbacks.notice(.transport(error))
    }

    /// The pool gave up on a connection that did not get through its upgrade or to `hello`
    /// in time: counted as a timeout, naming the step that stalled (the pool's own notice
    /// only says which deadline passed).
    private func noteStall(of link: SocketLink, _ reason: ConnectionLoss) {
        switch reason {
        case .connectTimeout:
            let limit = WebAPIExchange.describe(configuration.pool.connectTimeout)
            noteTransportError(.timeout("no WebSocket connection within \(limit) (\(link.waitingFor))"))
        case .helloTimeout:
            let limit = WebAPIExchange.describe(configuration.pool.helloTimeout)
            noteTransportError(.timeout("no hello within \(limit) of the WebSocket upgrade"))
        default:
            break
        }
    }

    func noteProtocolError(_ error: WebSocketProtocolError, on link: SocketLink) {
        counters.protocolErrors += 1
        counters.lastError = error.description
        callbacks.notice(.protocolViolation(link.id, error))
    }

    func noteBinaryFrame(on link: SocketLink) {
        counters.protocolErrors += 1
    }

    /// Performs the pool's actions in order.
    private func performActions() {
        while let action = pool.nextAction() {
            switch action {
            case .requestURL:
                requestURL()
            case .connect(let id, let url):
                connect(id, url: url)
            case .sendAck(let id, let message):
                guard let link = link(id) else { continue }
                do {
                    try link.writer.appendAck(message, using: &maskRandom)
                    link.unwrittenAcks.append(message)
                    markDirty(link)
                } catch {
                    counters.lastError = "ack could not be encoded: \(error)"
                }
            case .sendPing(let id, let payload):
                guard let link = links[id] else { continue }
                var text = payload.text
                text.withUTF8 { try? link.writer.appendPing(UnsafeRawBufferPointer($0), using: &maskRandom) }
                markDirty(link)
            case .close(let id, let code):
                links[id]?.close(code: code)
            case .abort(let id):
                links[id]?.abort()
            case .deliver(let delivery):
                deliveredInBatch = true
                callbacks.envelope(ReceivedEnvelope(frame: currentFrame, delivery: delivery, receivedAt: currentFrameTime))
                if intake?.handedOver() == true { setIntake(reading: false, at: now()) }
            case .stateChanged(let state):
                counters.state = state
                callbacks.state(state)
                if state == .stopped { finish() }
            case .notice(let notice):
                if case .connectionLost(let id, let reason) = notice, let link = links[id] { noteStall(of: link, reason) }
                callbacks.notice(.pool(notice))
            }
        }
    }

    /// The link of `id`; the last one found is kept at hand, since acks come in runs on
    /// one connection.
    private func link(_ id: ConnectionID) -> SocketLink? {
        if let recent = recentLink, recent.id == id, recent.phase != .ended { return recent }
        recentLink = links[id]
        return recentLink
    }

    private func requestURL() {
        let proxy = proxySettings.proxy(for: apiBase)
        let exchange = ConnectionsOpenExchange(
            runtime: runtime, apiBase: apiBase, appToken: configuration.appToken, proxy: proxy, tls: tls,
            userAgent: userAgent, timeout: configuration.webAPITimeout
        ) { [unowned self] result, error in
            self.exchange = nil
            if let error { noteTransportError(error) }
            pool.handle(.urlResponse(result), now: now())
            performActions()
            afterBatch()
        }
        self.exchange = exchange
        exchange.start()
    }

    private func connect(_ id: ConnectionID, url text: String) {
        let url: EndpointURL
        do {
            url = try EndpointURL(text)
        } catch {
            noteTransportError(.invalidURL("Slack's WebSocket URL: \(error.description)"))
            pool.handle(.connectFailed(id, reason: "invalid URL"), now: now())
            return
        }
        let link = SocketLink(id: id, url: url, client: self, proxy: proxySettings.proxy(for: url))
        links[id] = link
        link.start()
    }

    private func markDirty(_ link: SocketLink) { dirtyLinks.append(link) }

    /// After a batch of work: request writes for links with frames queued, re-arm the timer,
    /// publish the counters.
    func afterBatch() {
        performActions()
        if intake?.paused == true { applyIntake() }
        if deliveredInBatch {
            deliveredInBatch = false
            callbacks.batchEnd()
            runtime.envelopesHandedToHost()
        }
        if !dirtyLinks.isEmpty {
            for link in dirtyLinks { link.flush() }
            dirtyLinks.removeAll(keepingCapacity: true)
        }
        guard !finished else { return }
        armTimer()
        publish()
    }

    private func publish() {
        counters.pool = pool.metrics
        counters.outstandingAcks = pool.outstandingAcks
        if let intake {
            counters.queuedEvents = intake.depth
            counters.peakQueuedEvents = intake.peakDepth
            counters.intakePauses = intake.pauses
        }
        counters.liveConnections = links.values.reduce(0) { $0 + ($1.phase == .open ? 1 : 0) }
        counters.targetConnections = pool.poolTarget
        counters.replacingConnections = pool.retiringCount
        let snapshot = counters
        published.withValue { $0 = snapshot }
    }

    private func armTimer() {
        guard runtime.context != nil else { return }
        let next = pool.nextDeadline(now: now())
        guard next != armedAt else { return }
        armedAt = next
        guard let next else {
            timer.cancel()
            return
        }
        timer.schedule(at: next.nanoseconds) { [unowned self] in timerFired() }
    }

    func timerFired() {
        armedAt = nil
        pool.handle(.timer, now: now())
        performActions()
        afterBatch()
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        timer.cancel()
        // An ended client holds nobody's window shut.
        if intake?.paused == true { runtime.intakePaused(false) }
        publish()
        runtime.clients[ObjectIdentifier(self)] = nil
    }

    /// The runtime is shutting down: drop every connection without a handshake (the pool
    /// timer cancelled first).
    func shutdownNow() {
        timer.cancel()
        exchange?.cancel()
        exchange = nil
        for link in links.values { link.abort() }
        links.removeAll()
        if !finished {
            counters.state = .stopped
            finished = true
            publish()
            callbacks.state(.stopped)
        }
    }
}

