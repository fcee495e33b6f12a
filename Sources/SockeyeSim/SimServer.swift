import CLibWebSockets
import CSockeyeOpenSSL
import Foundation

/// The simulator process: one libwebsockets context on one service thread serving the
/// Web API (`/api/…`), the admin API (`/admin/…`) and the Socket Mode WebSockets
/// (`/link/?ticket=…`) on one 127.0.0.1 port, plain or TLS.
///
/// Every lws call and every `SimCore` access happens on the service thread; other threads
/// use `sync` (a queue drained after `lws_cancel_service`).
public final class SimServer: @unchecked Sendable {
    /// How to start the server.
    public struct Options: Sendable {
        public var config = SimConfig()
        /// 0 picks a free port.
        public var port = 0
        public var tls = false
        /// Where the self-signed certificate is created on first TLS start.
        public var certDirectory: String?
        /// A folder of JSON fixtures to register as payload kinds.
        public var fixtures: String?
        /// Interval of the housekeeping pass in milliseconds (ack deadlines, retries, pings,
        /// refresh schedules). Rate-mode sends are timed on their own schedule.
        public var tickMillis = 5
        /// HTTP delivery mode for every app from the start: POST payloads here (`http://`
        /// or `https://`) instead of sending them over Socket Mode. Apps can also be
        /// switched one by one at run time (`POST /admin/delivery`).
        public var requestURL: String?
        /// PEM file of certificates to trust for an `https://` Request URL (e.g. the app's
        /// self-signed certificate); nil: the system's trust store.
        public var requestURLCA: String?
        /// Signing secret for HTTP delivery.
        public var signingSecret = "sockeye-sim-signing-secret"
        public init() {}
    }

    public let options: Options
    /// The port actually listened on.
    public private(set) var port = 0
    /// Path of the certificate in use (TLS only).
    public private(set) var certificatePath: String?

    let core: SimCore
    /// HTTP delivery, started when the first app is delivered over HTTP (at start with
    /// `requestURL`, or by `POST /admin/delivery`).
    public var http: HTTPDelivery? { httpLock.lock(); defer { httpLock.unlock() }; return httpDelivery }
    var httpDelivery: HTTPDelivery?
    let httpLock = NSLock()
    /// Each app's Request URLs, kept after it goes back to Socket Mode (service thread).
    var routes: [Int: HTTPRoute] = [:]
    /// Numbers deferred admin responses (`Session.deferred`).
    var deferredCount: UInt64 = 0
    var context: OpaquePointer?
    var sessions: [OpaquePointer: Session] = [:]
    var wsiByConnection: [ServerConnectionID: OpaquePointer] = [:]
    let protocols: UnsafeMutablePointer<lws_protocols>
    private let lock = NSLock()
    private var commands: [(SimCore, Double) -> Void] = []
    private var stopping = false
    private var thread: Thread?
    private let ready = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)
    private var startError: String?
    /// Seconds between housekeeping passes.
    let housekeepingInterval: Double
    /// The wake-up timerfd, owned by lws once adopted (-1 before).
    var timerFD: Int32 = -1
    /// When the timerfd is armed to expire (monotonic seconds; infinity: not armed).
    var armedAt = Double.infinity
    /// When the next housekeeping pass is due (monotonic seconds).
    var nextHousekeeping = 0.0
    /// Passes through the service loop (each one poll): a loop that sleeps between events
    /// makes a few per envelope, a spinning one thousands.
    var servicePasses = 0

    /// Starts listening and returns once the port is known.
    public init(_ options: Options) throws {
        self.options = options
        core = SimCore(config: options.config, now: SimServer.monotonic())
        let route = try options.requestURL.map {
            try HTTPRoute(events: $0, secret: options.signingSecret, caFile: options.requestURLCA)
        }
        if let folder = options.fixtures {
            for t in try PayloadLibrary.loadFixtures(folder: folder) { core.register(t) }
        }
        housekeepingInterval = Double(max(1, options.tickMillis)) / 1000
        protocols = .allocate(capacity: 2)
        protocols.initialize(repeating: lws_protocols(), count: 2)
        protocols[0].name = UnsafePointer(strdup("sockeye-sim"))
        protocols[0].callback = simCallback
        protocols[0].rx_buffer_size = 65_536
        protocols[0].tx_packet_size = 262_144
        if options.tls { certificatePath = try Self.ensureCertificate(options.certDirectory) }
        if let route {
            for app in 0..<core.appCount {
                routes[app] = route
                core.setMode(.http, app: app, now: Self.monotonic())
            }
            startHTTP(routes: routes)
        }
        let t = Thread { [unchecked = UncheckedBox(value: self)] in unchecked.value.serviceLoop() }
        t.name = "sockeye-sim-service"
        thread = t
        t.start()
        ready.wait()
        if let e = startError { http?.stop(); throw SimError.listenFailed(e) }
    }

    deinit {
        free(UnsafeMutableRawPointer(mutating: protocols[0].name))
        protocols.deallocate()
    }

    /// `http(s)://127.0.0.1:PORT/api/` for `WebClient(base_url=…)`.
    public var apiBaseURL: String { "\(options.tls ? "https" : "http")://127.0.0.1:\(port)/api/" }

    /// Runs `body` on the service thread with the core and the current time; waits for it.
    public func sync<T: Sendable>(_ body: @escaping @Sendable (SimCore, Double) -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<T>()
        enqueue { core, now in box.value = body(core, now); done.signal() }
        done.wait()
        return box.value!
    }

    func enqueue(_ command: @escaping (SimCore, Double) -> Void) {
        // lws_cancel_service under the lock: the service thread clears `context` under the
        // same lock before destroying it, so the wake-up never races the destruction.
        lock.lock()
        commands.append(command)
        if let ctx = context { lws_cancel_service(ctx) }
        lock.unlock()
    }

    /// Stops HTTP delivery and the service thread, closes every socket and destroys the context.
    public func stop() {
        http?.stop()
        lock.lock()
        if stopping { lock.unlock(); return }
        stopping = true
        if let ctx = context { lws_cancel_service(ctx) }
        lock.unlock()
        finished.wait()
        // The service thread may have started HTTP delivery meanwhile.
        http?.stop()
    }

    // MARK: service thread

    private func serviceLoop() {
        lws_set_log_level(Int32(LLL_ERR), nil)
        var info = lws_context_creation_info()
        info.port = Int32(options.port)
        info.iface = UnsafePointer(strdup("127.0.0.1"))
        info.protocols = UnsafePointer(protocols)
        info.options = UInt64(LWS_SERVER_OPTION_VALIDATE_UTF8) | UInt64(LWS_SERVER_OPTION_DISABLE_IPV6)
        info.user = Unmanaged.passUnretained(self).toOpaque()
        info.pt_serv_buf_size = 65_536
        var certC: UnsafeMutablePointer<CChar>?
        var keyC: UnsafeMutablePointer<CChar>?
        let alpn = strdup("http/1.1")
        if options.tls, let cert = certificatePath {
            info.options |= UInt64(LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT)
            certC = strdup(cert)
            keyC = strdup(cert.replacingOccurrences(of: "cert.pem", with: "key.pem"))
            info.ssl_cert_filepath = UnsafePointer(certC)
            info.ssl_private_key_filepath = UnsafePointer(keyC)
            info.alpn = UnsafePointer(alpn)
        }
        let ctx = lws_create_context(&info)
        free(UnsafeMutableRawPointer(mutating: info.iface))
        guard let ctx else {
            startError = "lws_create_context failed (port \(options.port))"
            ready.signal()
            finished.signal()
            return
        }
        if let vh = lws_get_vhost_by_name(ctx, "default") { port = Int(lws_get_vhost_listen_port(vh)) }
        guard startTimer(ctx) else {
            lws_context_destroy(ctx)
            startError = "could not create the service timer (timerfd)"
            ready.signal()
            finished.signal()
            return
        }
        lock.lock(); context = ctx; lock.unlock()
        ready.signal()
        while true {
            lock.lock(); let stop = stopping; lock.unlock()
            if stop { break }
            servicePasses &+= 1
            if lws_service(ctx, 0) < 0 { break }
        }
        lock.lock(); context = nil; lock.unlock()
        lws_context_destroy(ctx)
        timerFD = -1 // closed by lws with its wsi
        sessions.removeAll()
        free(certC); free(keyC); free(alpn)
        lock.lock(); let leftover = commands; commands = []; lock.unlock()
        for c in leftover { c(core, Self.monotonic()) }
        finished.signal()
    }

    /// Drains queued commands (service thread).
    func runCommands() {
        lock.lock()
        let batch = commands
        commands = []
        lock.unlock()
        let now = Self.monotonic()
        for c in batch { c(core, now) }
        pump()
        armTimer(now: Self.monotonic())
    }

    /// Asks lws for a writeable callback on every connection with output or an ending due.
    func pump() {
        if !core.httpOut.isEmpty { flushHTTP() }
        guard !core.wantWrite.isEmpty else { return }
        for id in core.wantWrite {
            if let wsi = wsiByConnection[id] { lws_callback_on_writable(wsi) }
        }
        core.wantWrite.removeAll(keepingCapacity: true)
    }

    /// Monotonic seconds.
    public static func monotonic() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// CPU seconds used by the calling thread.
    static func threadCPU() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func ensureCertificate(_ dir: String?) throws -> String {
        let folder = dir ?? (NSTemporaryDirectory() + "sockeye-sim-tls")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let cert = folder + "/cert.pem", key = folder + "/key.pem"
        if !FileManager.default.fileExists(atPath: cert) || !FileManager.default.fileExists(atPath: key) {
            guard sockeye_make_self_signed(cert, key) == 0 else { throw SimError.listenFailed("could not create a certificate in \(folder)") }
        }
        return cert
    }
}

final class ResultBox<T>: @unchecked Sendable { var value: T? }
struct UncheckedBox<T>: @unchecked Sendable { let value: T }
