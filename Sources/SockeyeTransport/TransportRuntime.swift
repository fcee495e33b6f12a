import CLibWebSockets
import CSockeyeEventLoop
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
/// two wake-ups an event costs; no answer waits longer than the window. No window opens
/// while a client's reading is stopped by its consumer's bound, nor for a while after one
/// ran out with answers waiting and no frame coming (a peer waiting for acks).
public final class TransportRuntime: @unchecked Sendable {
    /// The longest an ack, nack or take waits for the service thread (see the type's doc).
    static let ackCoalescingWindow: Duration = .milliseconds(2)
    /// How long answers wake the thread again after a window ran out with answers waiting
    /// and no frame arriving (see `windowEnded`).
    static let coalescingHoldOff: Duration = .milliseconds(100)

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
    /// Every timer of the service thread (the pools', the Web API calls', the window's).
    var timers = TimerQueue<ServiceTimer>()
    /// Wakes the service thread for the earliest of `timers` (made once the context exists).
    private var wakeTimer: WakeTimer?
    /// Ends the coalescing window (service thread).
    private var windowTimer: ServiceTimer?
    /// Event memory host threads hand back to be freed here (see `ServiceThreadReleases`).
    let releases = ServiceThreadReleases()

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

    /// How the service thread waits for its sockets.
    public enum EventLoop: Sendable {
        /// epoll, through lws' libev plugin: a wake-up costs what is ready.
        case epoll
        /// lws' own `poll` loop (the libev plugin is not installed): every wake-up walks
        /// every socket.
        case poll
    }

    /// How the service thread waits (set before `init` returns).
    public private(set) var eventLoop: EventLoop = .poll

    /// Bytes one `RAW_RX` callback may carry.
    static let readChunk = 256 * 1024

    /// The event loop asked for (`.poll` is used when epoll cannot be).
    private let preferredLoop: EventLoop

    /// Starts the service thread; returns once its context exists. It waits on epoll unless
    /// `preferring` is `.poll`, lws' libev plugin is not installed, or the process runs a
    /// bundled copy of lws the plugin would not link with (`eventLoop` says which).
    public init(preferring: EventLoop = .epoll) throws(TransportError) {
        preferredLoop = preferring
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
        // What the service thread queues while it handles received bytes (a C callback's
        // ack) runs when that handling ends (`receivedBytesHandled`), without a wake-up.
        let runsAfterReceive = isServiceThread && handlingReceivedBytes
        let refused = lock.withLock { () -> Bool in
            if ended { return true }
            commands.append(command)
            if runsAfterReceive || (deferrable && answersDeferred) { return false }
            wakeLocked()
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
        // On epoll through lws' libev plugin when it is installed; lws' own poll loop if not.
        var loop = preferredLoop == .epoll && sockeye_event_loop_plugin_matches() != 0 ? sockeye_event_loop_new() : nil
        var created: OpaquePointer?
        if let epollLoop = loop {
            var foreignLoops: [UnsafeMutableRawPointer?] = [epollLoop]
            info.options |= UInt64(LWS_SERVER_OPTION_LIBEV)
            created = foreignLoops.withUnsafeMutableBufferPointer { loops in
                info.foreign_loops = loops.baseAddress
                defer { info.foreign_loops = nil }
                return lws_create_context(&info)
            }
            if created == nil {
                sockeye_event_loop_destroy(epollLoop)
                loop = nil
                info.options &= ~UInt64(LWS_SERVER_OPTION_LIBEV)
            }
        }
        if created == nil { created = lws_create_context(&info) }
        guard let created else {
            startError = "lws_create_context failed"
            ready.signal()
            return
        }
        eventLoop = loop == nil ? .poll : .epoll
        context = created
        guard let wake = WakeTimer(context: created, protocolName: protocolName) else {
            startError = "cannot create the service thread's timerfd"
            lws_context_destroy(created)
            if let loop { sockeye_event_loop_destroy(loop) }
            context = nil
            ready.signal()
            return
        }
        wakeTimer = wake
        windowTimer = ServiceTimer(runtime: self)
        lock.withLock { contextForWake = created }
        ready.signal()
        var failures = 0
        while !lock.withLock({ stopRequested }) {
            // The kernel timer is set for the earliest deadline just before every wait: what
            // the last wake-up scheduled is then waited for, whatever lws knows of it.
            wake.arm(at: timers.earliest())
            // lws_service fails only transiently (e.g. a wsi closed while its events were being
            // serviced); the loop must outlive it, or every client of the runtime goes deaf.
            if let loop {
                sockeye_event_loop_run_once(loop)
            } else if lws_service(created, 0) < 0 {
                failures += 1
                if failures % 1000 == 1 {
                    let line = "sockeye: lws_service failed (\(failures) times so far)\n"
                    _ = line.withCString { write(2, $0, strlen($0)) }
                }
                usleep(1000)
            }
        }
        windowTimer = nil
        wakeTimer = nil
        lock.withLock { answersDeferred = false }
        for client in clients.values { client.shutdownNow() }
        let inFlight = calls.values
        calls.removeAll()
        for call in inFlight { call.abandon(.runtime("the runtime shut down")) }
        lock.withLock { contextForWake = nil }
        lws_context_destroy(created)
        if let loop { sockeye_event_loop_destroy(loop) }
        context = nil
        // Only now may the clients go: lws' destruction still reaches their connections.
        clients.removeAll()
        // From now on hosts free event memory themselves.
        releases.close()
        // Commands that arrived too late are dropped with their closures; a caller waiting
        // for one is answered.
        let late = lock.withLock { () -> [Command] in
            ended = true
            defer { commands.removeAll() }
            return commands
        }
        for case .call(_, let dropped) in late { dropped() }
    }

    /// Set while the service thread handles bytes received on a connection.
    private var handlingReceivedBytes = false
    /// Whether bytes arrived since the window was last (re)armed.
    private var receivedSinceWindowArmed = false
    /// Clients whose reading is stopped by their consumer's bound (`intakePaused`).
    private var pausedIntakes = 0
    /// No window opens before this time (`MonotonicClock`; see `windowEnded`).
    private var coalescingHeldOffUntil: UInt64 = 0

    /// A connection's received bytes are about to be handled (service thread).
    func receivingBytes() {
        // What hosts let go of is freed first, so this read's frames can reuse it.
        releases.drain()
        handlingReceivedBytes = true
        receivedSinceWindowArmed = true
    }

    /// A connection's received bytes were handled (service thread, still inside lws'
    /// callback, so timers set now are seen before lws waits again): the commands queued
    /// meanwhile run now — answers held back by the coalescing window, and what the thread
    /// queued itself — in a few rounds at most; if more arrived still, the thread wakes at
    /// once for them.
    func receivedBytesHandled() {
        handlingReceivedBytes = false
        var rounds = 0
        while rounds < 4, lock.withLock({ !commands.isEmpty }) {
            runCommands()
            rounds += 1
        }
        lock.withLock { if !commands.isEmpty { wakeLocked() } }
    }

    /// Wakes the service thread unless a wake-up is pending (under `lock`: the service
    /// thread clears `contextForWake` under the same lock before destroying the context, so
    /// this never races the destruction).
    private func wakeLocked() {
        guard !wakePending, let context = contextForWake else { return }
        wakePending = true
        lws_cancel_service(context)
    }

    /// Envelopes were handed to a host: its answers may wait for the next wake-up, at most
    /// `ackCoalescingWindow` (service thread).
    func envelopesHandedToHost() {
        guard let windowTimer, !windowTimer.isScheduled, pausedIntakes == 0,
              MonotonicClock.now() >= coalescingHeldOffUntil else { return }
        lock.withLock { answersDeferred = true }
        armWindow(windowTimer)
    }

    /// (Re)starts the window from now (service thread).
    private func armWindow(_ windowTimer: ServiceTimer) {
        receivedSinceWindowArmed = false
        windowTimer.schedule(after: Self.ackCoalescingWindow) { [unowned self] in windowEnded() }
    }

    /// Closes the window at once: answers wake the thread again, and those it held wake
    /// it now (service thread).
    private func closeWindow() {
        windowTimer?.cancel()
        lock.withLock {
            answersDeferred = false
            if !commands.isEmpty { wakeLocked() }
        }
    }

    /// A client stopped (`paused`) or resumed reading because its consumer's queue reached
    /// its bound (service thread). While any client is stopped no window opens: its
    /// consumer's takes are what resume reading, and no frame would arrive to carry them.
    func intakePaused(_ paused: Bool) {
        pausedIntakes = max(0, pausedIntakes + (paused ? 1 : -1))
        if paused { closeWindow() }
    }

    /// The coalescing window ended: answers wake the thread again, and those held back
    /// run now.
    private func windowEnded() {
        let waiting = lock.withLock { () -> Bool in
            answersDeferred = false
            return !commands.isEmpty
        }
        // Answers waited the whole window and no frame came meanwhile: the peer may be
        // waiting for them (a bound on unacked envelopes). Answers wake the thread for a
        // while, so such a peer loses one window per hold-off at most, not one per burst.
        if waiting && !receivedSinceWindowArmed {
            coalescingHeldOffUntil = MonotonicClock.now() &+ ServiceTimer.nanoseconds(Self.coalescingHoldOff)
        }
        runCommands()
    }

    /// The timerfd polled readable (`LWS_CALLBACK_RAW_RX_FILE`): every timer due runs,
    /// earliest first.
    func wakeTimerExpired() {
        releases.drain()
        wakeTimer?.expired()
        for timer in timers.takeDue(now: MonotonicClock.now()) { timer.fire() }
    }

    /// Runs queued commands (on `LWS_CALLBACK_EVENT_WAIT_CANCELLED`, when the coalescing
    /// window ends, and after received bytes were handled). The two arrays swap
    /// roles each time, so a steady stream of commands allocates nothing.
    func runCommands() {
        releases.drain()
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
        if let windowTimer, windowTimer.isScheduled { armWindow(windowTimer) }
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
