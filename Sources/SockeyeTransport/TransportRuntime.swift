import CLibWebSockets
import Glibc
import SockeyeCore

/// One libwebsockets context and the one thread that services it, shared by any number of
/// Slack apps (`AppClient`s).
///
/// Threading: every lws call except `lws_cancel_service` must run on the service thread
/// (Debian's lws is built with `LWS_MAX_SMP` 1), so other threads never touch a socket, a
/// codec or a pool: they `enqueue` a command and wake the thread. A burst of commands (a
/// host acking thousands of events) costs one wake-up, not one per command. Reads are bulk
/// (`pt_serv_buf_size` 256 KiB per `RAW_RX`), and each writeable callback writes every byte
/// a connection has queued in one `lws_write`.
///
/// Answers coalesce: for `ackCoalescingWindow` after envelopes were handed to a host, its
/// acks, nacks and takes do not wake the thread. They are carried out when it next wakes for
/// anything else (the next frame, on any connection of any app) or when the window ends,
/// whichever comes first. At a few hundred events a second and more, that saves one of the
/// two wake-ups an event costs; no answer waits longer than the window.
public final class TransportRuntime: @unchecked Sendable {
    /// The longest an ack, nack or take waits for the service thread (see the type's doc).
    static let ackCoalescingWindow: Duration = .milliseconds(2)

    /// Work handed to the service thread.
    enum Command {
        case run(() -> Void)
        /// Work whose caller waits for it: if the runtime ends before it runs, `dropped` runs
        /// instead (on whichever thread finds it dropped), so the caller is always answered.
        case call(() -> Void, dropped: () -> Void)
        case ack(AppClient, DeliveryToken, [UInt8]?)
        case nack(AppClient, DeliveryToken)
        case taken(AppClient, DeliveryToken)
    }

    private let lock = ServiceLock()
    private var commands: [Command] = []
    private var spareCommands: [Command] = []
    private var wakePending = false
    /// The service thread will run the queued commands by the end of the coalescing window
    /// without being woken: answers enqueued meanwhile do not wake it (under `lock`).
    private var answersDeferred = false
    private var stopRequested = false
    /// The service loop ended: commands are not run any more (under `lock`).
    private var ended = false
    /// Set on the service thread once created, cleared (under `lock`) before destruction.
    private var contextForWake: OpaquePointer?
    private var thread = pthread_t()
    private let ready = Semaphore()
    private var startError: String?
    /// Ends the coalescing window (service thread; made there once the context exists).
    /// Without it (no timerfd), answers always wake the thread.
    private var windowTimer: WakeTimer?

    // Service-thread state.
    var context: OpaquePointer?
    private let protocols: UnsafeMutablePointer<lws_protocols>
    let protocolName: UnsafeMutablePointer<CChar>
    let rawMethod: UnsafeMutablePointer<CChar>
    /// Plaintext scratch shared by all TLS connections (one thread decrypts at a time).
    let scratch: UnsafeMutableRawBufferPointer
    var clients: [ObjectIdentifier: AppClient] = [:]
    /// Web API calls in flight (`callWebAPI`), failed at shutdown so no caller waits for ever.
    var calls: [ObjectIdentifier: WebAPIExchange] = [:]

    /// Bytes one `RAW_RX` callback may carry.
    static let readChunk = 256 * 1024

    /// Starts the service thread; returns once its context exists.
    public init() throws(TransportError) {
        protocolName = strdup("sockeye-raw")!
        rawMethod = strdup("RAW")!
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(protocolName)
        protocols[0].callback = transportCallback
        protocols[0].rx_buffer_size = TransportRuntime.readChunk
        scratch = .allocate(byteCount: TransportRuntime.readChunk, alignment: 16)
        let unmanaged = Unmanaged.passRetained(self)
        let created = pthread_create(&thread, nil, { argument in
            let runtime = Unmanaged<TransportRuntime>.fromOpaque(argument!).takeRetainedValue()
            runtime.serviceLoop()
            return nil
        }, unmanaged.toOpaque())
        guard created == 0 else {
            unmanaged.release()
            throw .runtime("cannot start the service thread (error \(created))")
        }
        ready.wait()
        if let startError {
            pthread_join(thread, nil)
            throw .runtime(startError)
        }
    }

    deinit {
        free(protocolName)
        free(rawMethod)
        protocols.deallocate()
        scratch.deallocate()
    }

    /// Hands a command to the service thread. Any thread.
    func enqueue(_ command: Command) {
        let deferrable: Bool
        switch command {
        case .ack, .nack, .taken: deferrable = true
        case .run, .call: deferrable = false
        }
        // The service thread runs what it queued itself before it next waits (`serviceLoop`).
        let onServiceThread = isServiceThread
        let refused = lock.withLock { () -> Bool in
            if ended { return true }
            commands.append(command)
            if onServiceThread || (deferrable && answersDeferred) { return false }
            guard !wakePending, let context = contextForWake else { return false }
            wakePending = true
            // Under the lock: the service thread clears `contextForWake` under the same lock
            // before destroying the context, so this never races the destruction.
            lws_cancel_service(context)
            return false
        }
        if refused, case .call(_, let dropped) = command { dropped() }
    }

    /// Runs `body` on the service thread (soon, not now). Any thread.
    func async(_ body: @escaping () -> Void) { enqueue(.run(body)) }

    /// Whether the caller is the service thread.
    var isServiceThread: Bool { pthread_equal(pthread_self(), thread) != 0 }

    /// Stops every client at once (no drain), closes every socket and ends the thread.
    /// Any thread but the service thread; blocks until the thread has exited.
    public func shutdown() {
        let alreadyStopping = lock.withLock {
            defer { stopRequested = true }
            if let context = contextForWake { lws_cancel_service(context) }
            return stopRequested
        }
        if !alreadyStopping { pthread_join(thread, nil) }
    }

    // MARK: Service thread

    private func serviceLoop() {
        lws_set_log_level(Int32(LLL_ERR), nil)
        var info = lws_context_creation_info()
        info.port = CONTEXT_PORT_NO_LISTEN
        info.protocols = UnsafePointer(protocols)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.pt_serv_buf_size = UInt32(TransportRuntime.readChunk)
        info.options = UInt64(LWS_SERVER_OPTION_DISABLE_OS_CA_CERTS)
        guard let created = lws_create_context(&info) else {
            startError = "lws_create_context failed"
            ready.signal()
            return
        }
        context = created
        windowTimer = WakeTimer(context: created, protocolName: protocolName)
        lock.withLock { contextForWake = created }
        ready.signal()
        var failures = 0
        while !lock.withLock({ stopRequested }) {
            // Commands queued while the thread was awake (by itself, or answers held back by
            // the coalescing window) run before it waits again; a few rounds at most, and if
            // more arrived still, the wait returns at once.
            var rounds = 0
            while rounds < 4, lock.withLock({ !commands.isEmpty }) {
                runCommands()
                rounds += 1
            }
            if lock.withLock({ !commands.isEmpty }) { lws_cancel_service(created) }
            // lws_service fails only transiently (e.g. a wsi closed while its events were being
            // serviced); the loop must outlive it, or every client of the runtime goes deaf.
            if lws_service(created, 0) < 0 {
                failures += 1
                if failures % 1000 == 1 {
                    let line = "sockeye: lws_service failed (\(failures) times so far)\n"
                    _ = line.withCString { write(2, $0, strlen($0)) }
                }
                usleep(1000)
            }
        }
        windowTimer = nil
        lock.withLock { answersDeferred = false }
        for client in clients.values { client.shutdownNow() }
        let inFlight = calls.values
        calls.removeAll()
        for call in inFlight { call.abandon(.runtime("the runtime shut down")) }
        lock.withLock { contextForWake = nil }
        lws_context_destroy(created)
        context = nil
        // Only now may the clients go: lws' destruction still reaches their connections.
        clients.removeAll()
        // Commands that arrived too late are dropped with their closures; a caller waiting
        // for one is answered.
        let late = lock.withLock { () -> [Command] in
            ended = true
            defer { commands.removeAll() }
            return commands
        }
        for case .call(_, let dropped) in late { dropped() }
    }

    /// Envelopes were handed to a host: its answers may wait for the next wake-up, at most
    /// `ackCoalescingWindow` (service thread).
    func envelopesHandedToHost() {
        guard let windowTimer, !windowTimer.isArmed, windowTimer.arm(after: Self.ackCoalescingWindow) else { return }
        lock.withLock { answersDeferred = true }
    }

    /// The coalescing window's timer polled readable (`LWS_CALLBACK_RAW_RX_FILE`): answers
    /// wake the thread again, and those held back run now.
    func windowEnded() {
        guard windowTimer?.fired() == true else { return }
        lock.withLock { answersDeferred = false }
        runCommands()
    }

    /// Runs queued commands (on `LWS_CALLBACK_EVENT_WAIT_CANCELLED`, when the coalescing
    /// window ends, and before the service thread waits). The two arrays swap
    /// roles each time, so a steady stream of commands allocates nothing.
    func runCommands() {
        var batch = lock.withLock { () -> [Command] in
            wakePending = false
            var taken = spareCommands
            swap(&taken, &commands)
            return taken
        }
        var touched: [AppClient] = []
        // One clock reading for the batch: acks that arrived together are handled together.
        let time = Instant(nanoseconds: MonotonicClock.now())
        for command in batch {
            switch command {
            case .run(let body), .call(let body, _):
                body()
            case .ack(let client, let token, let payload):
                client.ackNow(token, payload: payload, at: time)
                if !client.inBatch { client.inBatch = true; touched.append(client) }
            case .nack(let client, let token):
                client.nackNow(token, at: time)
                if !client.inBatch { client.inBatch = true; touched.append(client) }
            case .taken(let client, let token):
                client.takenNow(token, at: time)
                if !client.inBatch { client.inBatch = true; touched.append(client) }
            }
        }
        for client in touched {
            client.inBatch = false
            client.afterBatch()
        }
        batch.removeAll(keepingCapacity: true)
        lock.withLock { spareCommands = batch }
        // The queue is empty again: the window runs from now, so at a steady rate of
        // envelopes the next one's wake-up carries these answers and the timer never fires.
        if let windowTimer, windowTimer.isArmed { windowTimer.arm(after: Self.ackCoalescingWindow) }
    }
}

/// A counting semaphore on a `ServiceLock` (visible to ThreadSanitizer).
final class Semaphore: @unchecked Sendable {
    private let lock = ServiceLock()
    private var count = 0  // under `lock`

    func signal() {
        lock.withLock {
            count += 1
            lock.signal()
        }
    }

    func wait() {
        lock.withLock {
            while count == 0 { lock.wait() }
            count -= 1
        }
    }
}
