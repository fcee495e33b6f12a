import CSockeye
import SockeyeCore
import SockeyeTransport

/// A `sockeye_client`: one `AppClient` and the C host's side of it (callbacks or the pull
/// queue, answer bookkeeping, ack latencies).
///
/// Threads: `deliver`, `stateChanged`, `noticed` and `batchEnded` run on the service
/// thread; `ack`, `nack`, `released`, `stats` and `free` on any host thread. State shared
/// between them is under `lock`.
final class ABIClient: @unchecked Sendable {
    let owner: ABIRuntime
    let settings: ClientSettings
    /// Set once, before the client starts.
    private(set) var app: AppClient!
    /// This client's own handle, passed to the host's callbacks.
    private(set) var handle: OpaquePointer?
    /// The pull queue; nil in callback mode.
    let queue: PullQueue?

    private let lock = ServiceLock()
    private var isFreed = false
    private var latencies = AckLatencyHistogram()
    private var hostAcks: UInt64 = 0
    private var state: sockeye_state = SOCKEYE_STATE_IDLE

    // Service thread only: events of the current batch, handed to the pull queue (and given
    // handles, under one lock) at its end.
    private var batch: [ABIEvent] = []

    init(owner: ABIRuntime, settings: ClientSettings) throws(ABIFailure) {
        self.owner = owner
        self.settings = settings
        queue = settings.onEvent == nil ? try PullQueue() : nil
    }

    /// Makes the transport client and registers the handle. Does not start.
    ///
    /// The transport's callbacks reach this object through a link that holds it strongly
    /// until the client reports `.stopped` (the last callback of every client: after a
    /// stop, a free or the runtime's shutdown), then lets go on the service thread, so the
    /// two never keep each other alive. (Not a weak reference: a weakly referenced object
    /// pays for a side table on every retain and release, i.e. on every event.)
    func attach(environment: [String: String]) throws(ABIFailure) {
        let link = ClientLink(self)
        let owner = self.owner
        let made = MadeClient()
        let callbacks = ClientCallbacks(
            envelope: { received in link.client?.deliver(received) },
            state: { state in
                link.client?.stateChanged(state)
                if state == .stopped {
                    // The transport client holds these closures: no cycle after the stop.
                    link.client = nil
                    if let app = made.app {
                        made.app = nil
                        owner.appStopped(app)
                    }
                }
            },
            notice: { notice in link.client?.noticed(notice) },
            batchEnd: { link.client?.batchEnded() })
        do {
            app = try AppClient(runtime: owner.runtime, configuration: settings.configuration, callbacks: callbacks,
                                environment: environment)
        } catch {
            let status: sockeye_status =
                switch error {
                case .invalidURL: SOCKEYE_E_INVALID_URL
                default: SOCKEYE_E_INVALID_OPTION
                }
            throw ABIFailure(status, error.description)
        }
        made.app = app
        owner.register(app)
        handle = HandleTable.shared.insert(self, kind: .client)
    }

    var freed: Bool { lock.withLock { isFreed } }

    // MARK: Service thread

    private func deliver(_ received: ReceivedEnvelope) {
        guard !freed else {
            // Nobody will see it: never ack it unseen (Slack redelivers it).
            if settings.ackMode != .onReceipt { app.nack(received.token) }
            return
        }
        let event = ABIEvent(received, client: self)
        guard let onEvent = settings.onEvent else {
            batch.append(event)
            return
        }
        onEvent(settings.onEventUser, handle, HandleTable.shared.insert(event, kind: .event))
        if settings.ackMode == .afterHandler { finishUnanswered(event, ack: true) }
    }

    private func batchEnded() {
        guard let queue, !batch.isEmpty else { return }
        let handed = HandleTable.shared.insert(batch, kind: .event)
        batch.removeAll(keepingCapacity: true)
        // A queue shut down by `free` refuses them: decline and drop those.
        for refused in queue.append(handed) { dropUnseen(refused) }
    }

    private func stateChanged(_ newState: PoolState) {
        batchEnded()
        let (code, detail) = Self.describe(newState)
        let notify = lock.withLock { () -> Bool in
            state = code
            return !isFreed
        }
        if notify {
            log(newState.isFailure ? SOCKEYE_LOG_ERROR : SOCKEYE_LOG_INFO,
                "state: \(String(cString: sockeyeStateName(Int32(code.rawValue))))\(detail.isEmpty ? "" : " (\(detail))")")
            if let onState = settings.onState {
                redacted(detail).withCString { onState(settings.onStateUser, handle, code, $0) }
            }
        }
        switch newState {
        case .stopped: queue?.end(.stopped)
        case .failed: queue?.end(.failed)
        default: break
        }
    }

    private func noticed(_ notice: ClientNotice) {
        guard settings.log != nil, !freed else { return }
        let (level, text) = LogLine.describe(notice)
        log(level, text)
    }

    // MARK: Any thread

    /// Sends a line to the host's log callback, if it wants this level; the token never
    /// reaches it.
    func log(_ level: sockeye_log_level, _ message: String) {
        guard let log = settings.log, level.rawValue <= settings.logLevel.rawValue else { return }
        redacted(message).withCString { log(settings.logUser, level, $0) }
    }

    private func redacted(_ text: String) -> String { settings.redactor.redact(text) }

    func ack(_ event: ABIEvent, payload: UnsafeRawBufferPointer?) -> sockeye_status {
        let body = payload.flatMap { $0.count > 0 ? $0 : nil }
        if let body {
            guard settings.ackMode != .onReceipt else { return SOCKEYE_E_ALREADY_ANSWERED }
            let checked: sockeye_status = event.withEnvelopeID { id in
                withUnsafeTemporaryAllocation(byteCount: AckEncoder.maxFrameSize, alignment: 1) { scratch in
                    do throws(AckEncodingError) {
                        _ = try AckEncoder.encode(envelopeID: id, payload: body, into: scratch, headroom: 0)
                        return SOCKEYE_OK
                    } catch {
                        switch error {
                        case .tooLarge: return SOCKEYE_E_ACK_TOO_LARGE
                        case .bufferTooSmall: return SOCKEYE_E_ACK_TOO_LARGE
                        case .invalidEnvelopeID: return SOCKEYE_E_INVALID_ENVELOPE_ID
                        case .invalidPayload: return SOCKEYE_E_INVALID_PAYLOAD
                        }
                    }
                }
            }
            guard checked == SOCKEYE_OK else { return checked }
        }
        guard !owner.hasShutDown else { return SOCKEYE_E_STOPPED }
        let now = MonotonicClock.now()
        let status = lock.withLock { () -> sockeye_status in
            if isFreed { return SOCKEYE_E_STOPPED }
            if event.answer != 0 { return SOCKEYE_E_ALREADY_ANSWERED }
            event.answer = 1
            hostAcks += 1
            latencies.record(microseconds: now > event.receivedAt ? (now - event.receivedAt) / 1000 : 0)
            return SOCKEYE_OK
        }
        guard status == SOCKEYE_OK, settings.ackMode != .onReceipt else { return status }
        app.ack(event.token, payload: body.map { Array($0) })
        return SOCKEYE_OK
    }

    func nack(_ event: ABIEvent) -> sockeye_status {
        guard settings.ackMode != .onReceipt else { return SOCKEYE_E_ALREADY_ANSWERED }
        guard !owner.hasShutDown else { return SOCKEYE_E_STOPPED }
        let status = lock.withLock { () -> sockeye_status in
            if isFreed { return SOCKEYE_E_STOPPED }
            if event.answer != 0 { return SOCKEYE_E_ALREADY_ANSWERED }
            event.answer = 2
            return SOCKEYE_OK
        }
        if status == SOCKEYE_OK { app.nack(event.token) }
        return status
    }

    /// The host gave back its last reference (pull mode: after_handler acks here).
    func released(_ event: ABIEvent) {
        if settings.ackMode == .afterHandler && settings.onEvent == nil { finishUnanswered(event, ack: true) }
    }

    /// Acks (or nacks) an event nobody answered, unless the client is gone.
    private func finishUnanswered(_ event: ABIEvent, ack: Bool) {
        let proceed = lock.withLock { () -> Bool in
            guard !isFreed, event.answer == 0 else { return false }
            event.answer = ack ? 1 : 2
            return true
        }
        guard proceed, !owner.hasShutDown else { return }
        if ack { app.ack(event.token) } else { app.nack(event.token) }
    }

    /// An event queued for the host that the host will never see: declined, then dropped.
    private func dropUnseen(_ eventHandle: OpaquePointer) {
        if case .last(let event) = HandleTable.shared.release(eventHandle, kind: .event, as: ABIEvent.self),
            settings.ackMode != .onReceipt
        {
            let decline = lock.withLock { () -> Bool in
                guard event.answer == 0 else { return false }
                event.answer = 2
                return true
            }
            if decline && !owner.hasShutDown { app.nack(event.token) }
        }
    }

    func stop(drain: Bool) { app.stop(drain: drain) }

    /// `sockeye_client_free`: the handle is already invalid when this runs.
    func free() {
        lock.withLock { isFreed = true }
        app.stop(drain: false)
        owner.waitForServiceThread()
        if let queue {
            for left in queue.shutDown() { dropUnseen(left) }
        }
    }

    func stats(into out: inout sockeye_stats) {
        let snapshot = app.stats
        let pool = snapshot.pool
        lock.withLock {
            out.state = Int32(bitPattern: state.rawValue)
            out.host_acks = hostAcks
            out.ack_latency_p50_us = latencies.percentile(0.50)
            out.ack_latency_p90_us = latencies.percentile(0.90)
            out.ack_latency_p99_us = latencies.percentile(0.99)
            out.ack_latency_max_us = latencies.maximum
        }
        out.connections_live = UInt32(clamping: snapshot.liveConnections)
        out.connections_target = UInt32(clamping: snapshot.targetConnections)
        out.queued = UInt32(clamping: queue?.count ?? 0)
        out.received = UInt64(clamping: pool.framesReceived)
        out.delivered = UInt64(clamping: pool.envelopesDelivered)
        out.acked = UInt64(clamping: pool.acksSent)
        out.nacked = UInt64(clamping: pool.nacked)
        out.deduplicated = UInt64(clamping: pool.duplicatesDropped + pool.redeliveriesCoalesced)
        out.redelivered = UInt64(clamping: pool.redeliveriesReceived)
        out.ack_guarded = UInt64(clamping: pool.ackGuardFired)
        out.late_acks = UInt64(clamping: snapshot.lateAcks)
        out.outstanding = UInt64(clamping: snapshot.outstandingAcks)
        out.reconnects_lost = UInt64(clamping: pool.connectionsLost)
        out.reconnects_refresh = UInt64(clamping: pool.refreshes)
        out.reconnects_too_many = UInt64(clamping: pool.tooManyWebsockets)
        out.open_errors = UInt64(clamping: pool.urlFailures)
        out.transport_errors = UInt64(clamping: snapshot.transportErrors)
        out.protocol_errors = UInt64(clamping: snapshot.protocolErrors)
        out.malformed_frames = UInt64(clamping: pool.malformedFrames)
        out.timeouts = UInt64(clamping: snapshot.timeouts)
        out.peak_queued = UInt64(clamping: snapshot.peakQueuedEvents)
        out.intake_pauses = UInt64(clamping: snapshot.intakePauses)
    }

    private static func describe(_ state: PoolState) -> (sockeye_state, String) {
        switch state {
        case .idle: (SOCKEYE_STATE_IDLE, "")
        case .connecting: (SOCKEYE_STATE_CONNECTING, "")
        case .running(let live, let target): (SOCKEYE_STATE_RUNNING, "\(live)/\(target)")
        case .stopping: (SOCKEYE_STATE_STOPPING, "")
        case .stopped: (SOCKEYE_STATE_STOPPED, "")
        case .failed(.fatalOpenError(let code)): (SOCKEYE_STATE_FAILED, "apps.connections.open: \(code)")
        case .failed(.linkDisabled): (SOCKEYE_STATE_FAILED, "link_disabled: Socket Mode is off for the app")
        }
    }
}

/// The transport client, for its own state callback (set before it starts).
private final class MadeClient: @unchecked Sendable {
    var app: AppClient?
}

/// The transport's callbacks reach the client through this until it has stopped. Written
/// before the client starts and then only on the service thread, which alone reads it.
private final class ClientLink: @unchecked Sendable {
    var client: ABIClient?
    init(_ client: ABIClient) { self.client = client }
}

extension PoolState {
    fileprivate var isFailure: Bool { if case .failed = self { true } else { false } }
}
