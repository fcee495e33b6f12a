import CLibWebSockets
import CSockeyeOpenSSL
import Dispatch
import Glibc
import SockeyeCore

/// What a `Conduit` tells the protocol running over it. Service thread only.
protocol ConduitOwner: AnyObject {
    /// TCP is up, the proxy tunnel (if any) is through and TLS (if any) is done: send.
    func conduitOpened()
    /// Plaintext from the peer, valid only during the call.
    func conduitReceived(_ bytes: UnsafeRawBufferPointer)
    /// The socket can take bytes: move queued frames in with `send` now.
    func conduitWillWrite()
    /// The conduit is finished (called once); `error` says why when it failed.
    func conduitEnded(_ error: TransportError?)
}

/// One TCP connection and the layers under the application protocol: DNS on a helper
/// thread, the lws raw socket, an HTTP proxy's CONNECT tunnel, TLS through memory BIOs.
/// Bytes in, bytes out; the owner (an API call or a WebSocket link) speaks HTTP or
/// WebSocket over it. Confined to the service thread.
final class Conduit {
    enum Stage { case idle, resolving, connecting, tunnelling, securing, open, ended }

    unowned let runtime: TransportRuntime
    /// Not retained: the owner holds the conduit, and clears this in its `deinit` because lws
    /// may keep the conduit a little longer. (Not `weak`: an object with a weak reference
    /// to it pays a slower retain and release ever after, and a link is touched per ack.)
    unowned(unsafe) var owner: ConduitOwner?
    let target: EndpointURL
    let proxy: EndpointURL?
    let tlsConfiguration: TLSConfiguration?
    let userAgent: String

    private(set) var stage = Stage.idle
    private var wsi: OpaquePointer?
    private var heldForLWS: Unmanaged<Conduit>?
    private var addresses: [String] = []
    private var addressIndex = 0
    private var lastConnectError = ""
    private var tunnel: ProxyConnect?
    private var tls: OpaquePointer?
    /// Bytes waiting for the socket, after `LWS_PRE` bytes of headroom lws may use.
    private var outbound: [UInt8]
    private var closeAfterFlush = false
    private var writeRequested = false
    private var pendingError: TransportError?
    private var aborted = false
    /// Counts connection attempts (one per address tried).
    private var attempt = 0

    private static let headroom = Int(sockeye_lws_pre())

    init(runtime: TransportRuntime, target: EndpointURL, proxy: EndpointURL?, tls: TLSConfiguration?, userAgent: String) {
        self.runtime = runtime
        self.target = target
        self.proxy = proxy
        self.tlsConfiguration = tls
        self.userAgent = userAgent
        outbound = [UInt8](repeating: 0, count: Conduit.headroom)
    }

    deinit {
        if let tls { sockeye_tls_free(tls) }
    }

    /// The owner, retained for the call about to be made: the owner may let go of itself
    /// inside it (a link that ended is dropped by its client).
    private var retainedOwner: ConduitOwner? {
        guard let owner else { return nil }
        return owner
    }

    /// The conduit that owns `wsi`, if it still does.
    static func of(_ wsi: OpaquePointer) -> Conduit? {
        guard let opaque = lws_get_opaque_user_data(wsi) else { return nil }
        return Unmanaged<Conduit>.fromOpaque(opaque).takeUnretainedValue()
    }

    /// The step the conduit is waiting on, for a timeout's message; `nil` once it is open
    /// (the owner's own protocol is waiting then, and the owner names it) or ended.
    var waitingFor: String? {
        switch stage {
        case .idle: "start"
        case .resolving: "DNS lookup of \(hop.host)"
        case .connecting: "TCP connect to \(hop.host):\(hop.port)"
        case .tunnelling: "proxy CONNECT"
        case .securing: "TLS handshake"
        case .open, .ended: nil
        }
    }

    /// The host and port TCP goes to: the proxy's when there is one.
    private var hop: (host: String, port: Int) { proxy.map { ($0.host, $0.port) } ?? (target.host, target.port) }

    // MARK: Commands from the owner

    /// Resolves and connects. DNS runs on a helper thread (Debian's lws has no async DNS and
    /// `getaddrinfo` may block for seconds); IP literals skip it.
    func start() {
        guard stage == .idle else { return }
        let (host, port) = hop
        if Resolver.isNumeric(host) {
            addresses = [host]
            connectNext()
            return
        }
        stage = .resolving
        let runtime = self.runtime
        let box = UncheckedSendable(self)
        DispatchQueue.global().async {
            let result = Resolver.resolve(host: host, port: port)
            runtime.async { box.value.resolved(result) }
        }
    }

    /// Queues plaintext for the peer (encrypting it when TLS is on) and asks to write.
    func send(_ bytes: UnsafeRawBufferPointer) {
        guard stage != .ended, bytes.count > 0 else { return }
        if let tls {
            guard sockeye_tls_write(tls, bytes.baseAddress, bytes.count) >= 0 else {
                fail(.tls(String(cString: sockeye_tls_error(tls)), verification: false))
                return
            }
            moveTLSOutput()
        } else {
            outbound.append(contentsOf: bytes)
        }
        requestWrite()
    }

    func send(_ bytes: [UInt8]) { bytes.withUnsafeBytes { send($0) } }

    /// Stops (`false`) or resumes reading the socket: while stopped the kernel's receive
    /// buffer fills and TCP pushes back on the peer. Writes go on.
    func setReading(_ reading: Bool) {
        guard let wsi, stage != .ended, reading != isReading else { return }
        isReading = reading
        _ = lws_rx_flow_control(wsi, reading ? 1 : 0)
    }

    /// Whether the socket is read (`setReading`).
    private(set) var isReading = true

    /// Asks lws for a writeable callback (at most one outstanding).
    func requestWrite() {
        guard let wsi, !writeRequested, stage != .ended else { return }
        writeRequested = true
        lws_callback_on_writable(wsi)
    }

    /// Closes after what is queued has been written (TLS close_notify first).
    func close() {
        guard stage != .ended else { return }
        guard wsi != nil else { return abort() }
        closeAfterFlush = true
        if let tls {
            sockeye_tls_shutdown(tls)
            moveTLSOutput()
        }
        requestWrite()
    }

    /// Drops the connection now; `conduitEnded` follows on the service thread.
    func abort(_ error: TransportError? = nil) {
        guard stage != .ended else { return }
        aborted = true
        if let error, pendingError == nil { pendingError = error }
        if let wsi {
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC)
        } else {
            let box = UncheckedSendable(self)
            runtime.async { box.value.end() }
            stage = .ended
        }
    }

    // MARK: Events from lws

    private func resolved(_ result: Result<[String], TransportError>) {
        guard stage == .resolving else { return }
        switch result {
        case .success(let found):
            addresses = found
            connectNext()
        case .failure(let error):
            finish(error)
        }
    }

    private func connectNext() {
        guard addressIndex < addresses.count, let context = runtime.context else {
            let (host, port) = hop
            finish(.connect(host: host, port: port, reason: lastConnectError.isEmpty ? "no address" : lastConnectError))
            return
        }
        let address = addresses[addressIndex]
        addressIndex += 1
        stage = .connecting
        attempt += 1
        let thisAttempt = attempt
        let held = Unmanaged.passRetained(self)
        heldForLWS = held
        var info = lws_client_connect_info()
        info.context = context
        info.port = Int32(hop.port)
        info.method = UnsafePointer(runtime.rawMethod)
        info.local_protocol_name = UnsafePointer(runtime.protocolName)
        info.opaque_user_data = held.toOpaque()
        let made: OpaquePointer? = address.withCString { addressC in
            info.address = addressC
            info.host = addressC
            return lws_client_connect_via_info(&info)
        }
        // lws may have reported an error for this attempt from inside the call, and we may
        // have moved on to the next address already: only a still-current attempt counts.
        guard attempt == thisAttempt, heldForLWS != nil else { return }
        if let made {
            wsi = made
        } else {
            // Failed synchronously without a CLIENT_CONNECTION_ERROR callback.
            heldForLWS = nil
            held.release()
            lastConnectError = "lws could not start the connection"
            connectNext()
        }
    }

    func connectionError(_ text: String) {
        detachFromLWS()
        lastConnectError = text
        if stage == .connecting && !aborted { connectNext() } else { finish(.closedEarly(text)) }
    }

    func tcpConnected() -> Int32 {
        guard stage == .connecting else { return 0 }
        if let proxy {
            let handshake = ProxyConnect(target: target, proxy: proxy, userAgent: userAgent)
            stage = .tunnelling
            outbound.append(contentsOf: handshake.request)
            tunnel = handshake
            requestWrite()
            return 0
        }
        secureOrOpen()
        return 0
    }

    private func secureOrOpen() {
        guard target.isSecure, let tlsConfiguration else {
            stage = .open
            retainedOwner?.conduitOpened()
            return
        }
        var error = [CChar](repeating: 0, count: 512)
        guard let session = sockeye_tls_new(tlsConfiguration.raw, target.host, &error, error.count) else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            return fail(.tls("TLS for \(target.host): \(message.isEmpty ? "cannot create a TLS session" : message)", verification: false))
        }
        tls = session
        stage = .securing
        stepHandshake()
    }

    private func stepHandshake() {
        guard let tls else { return }
        let result = sockeye_tls_handshake(tls)
        moveTLSOutput()
        if result == SOCKEYE_TLS_OK {
            stage = .open
            retainedOwner?.conduitOpened()
            readTLS()
        } else if result == SOCKEYE_TLS_ERROR {
            fail(.tls(String(cString: sockeye_tls_error(tls)), verification: sockeye_tls_error_is_verification(tls) != 0))
        }
        if !outbound.isEmpty { requestWrite() }
    }

    func received(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        switch stage {
        case .tunnelling:
            guard var handshake = tunnel else { return 0 }
            do {
                let used = try handshake.receive(bytes)
                tunnel = handshake
                guard let used else { return 0 }
                tunnel = nil
                secureOrOpen()
                if used < bytes.count { return received(UnsafeRawBufferPointer(rebasing: bytes[used...])) }
            } catch {
                fail(.proxy(error.description))
            }
        case .securing, .open:
            if let tls {
                guard sockeye_tls_feed(tls, bytes.baseAddress, bytes.count) == 0 else {
                    fail(.tls("TLS input could not be buffered", verification: false))
                    return 0
                }
                if stage == .securing { stepHandshake() } else { readTLS() }
            } else {
                retainedOwner?.conduitReceived(bytes)
            }
        default:
            break
        }
        return 0
    }

    /// Decrypts everything available into the runtime's scratch buffer and hands it up.
    private func readTLS() {
        guard let tls else { return }
        while stage == .open {
            let got = sockeye_tls_read(tls, runtime.scratch.baseAddress, runtime.scratch.count)
            if got > 0 {
                retainedOwner?.conduitReceived(UnsafeRawBufferPointer(rebasing: runtime.scratch[0..<got]))
            } else if got == SOCKEYE_TLS_WANT_MORE {
                break
            } else if got == SOCKEYE_TLS_CLOSED {
                close()
                break
            } else {
                fail(.tls(String(cString: sockeye_tls_error(tls)), verification: false))
                break
            }
        }
        moveTLSOutput()
        if outbound.count > Conduit.headroom { requestWrite() }
    }

    func writeable() -> Int32 {
        writeRequested = false
        guard let wsi, stage != .ended else { return -1 }
        if stage == .open { retainedOwner?.conduitWillWrite() }
        let pending = outbound.count - Conduit.headroom
        if pending > 0 {
            let written = outbound.withUnsafeMutableBytes { raw in
                lws_write(wsi, raw.baseAddress!.advanced(by: Conduit.headroom).assumingMemoryBound(to: UInt8.self),
                          pending, LWS_WRITE_HTTP)  // LWS_WRITE_RAW is a macro alias of LWS_WRITE_HTTP
            }
            guard written >= 0 else {
                pendingError = pendingError ?? .closedEarly("write failed")
                return -1
            }
            outbound.removeSubrange(Conduit.headroom...)
        }
        if closeAfterFlush || pendingError != nil { return -1 }
        return 0
    }

    func tcpClosed() {
        detachFromLWS()
        if stage == .ended { return }
        let error: TransportError? =
            switch stage {
            case .open: pendingError
            case .tunnelling: pendingError ?? .proxy("the proxy closed the connection during CONNECT")
            case .securing: pendingError ?? .tls("the server closed the connection during the TLS handshake", verification: false)
            default: pendingError ?? .closedEarly("closed before the connection was established")
            }
        finish(error)
    }

    // MARK: Helpers

    private func moveTLSOutput() {
        guard let tls else { return }
        while true {
            let waiting = sockeye_tls_output_pending(tls)
            guard waiting > 0 else { return }
            let start = outbound.count
            outbound.append(contentsOf: repeatElement(0, count: waiting))
            let got = outbound.withUnsafeMutableBytes { raw in
                sockeye_tls_take_output(tls, raw.baseAddress!.advanced(by: start), waiting)
            }
            outbound.removeLast(waiting - got)
            if got == 0 { return }
        }
    }

    private func fail(_ error: TransportError) {
        guard stage != .ended else { return }
        if pendingError == nil { pendingError = error }
        abort()
    }

    private func detachFromLWS() {
        if let wsi { lws_set_opaque_user_data(wsi, nil) }
        wsi = nil
        heldForLWS?.release()
        heldForLWS = nil
    }

    private func finish(_ error: TransportError?) {
        if let error, pendingError == nil { pendingError = error }
        detachFromLWS()
        end()
    }

    private var endReported = false
    private func end() {
        guard !endReported else { return }
        endReported = true
        stage = .ended
        if let tls {
            sockeye_tls_free(tls)
            self.tls = nil
        }
        retainedOwner?.conduitEnded(pendingError)
    }
}

/// Carries a service-thread object through a `@Sendable` closure that only ever runs on the
/// service thread again.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
