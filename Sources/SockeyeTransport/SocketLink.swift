import SockeyeCore

/// One Socket Mode WebSocket: the upgrade, the frame decoder and the outbound frame writer
/// of the core, over a conduit. It reports to its `AppClient` (which feeds the pool) and
/// answers Slack's pings itself. Confined to the service thread.
final class SocketLink: ConduitOwner {
    enum Phase { case connecting, upgrading, open, closing, ended }

    let id: ConnectionID
    unowned let client: AppClient
    let conduit: Conduit
    private(set) var phase = Phase.connecting
    private var handshake: WebSocketHandshake
    private var decoder: WebSocketFrameDecoder
    /// Frames waiting for the next writeable callback: acks, pongs, pings, the close.
    var writer = WebSocketFrameWriter(initialCapacity: 512)
    /// Acks in `writer` not yet handed to the socket: if the link ends first, they are sent
    /// again on another connection.
    var unwrittenAcks: [AckMessage] = []
    /// The close code the server sent, reported to the pool when TCP goes.
    private var closeCodeReceived: UInt16?
    private var closeSent = false
    /// Set when a text message turned out not to be UTF-8: later messages are ignored and
    /// the connection closes with 1007.
    private var textError: WebSocketProtocolError?
    private var reportedOpen = false

    init(id: ConnectionID, url: EndpointURL, client: AppClient, proxy: EndpointURL?) {
        self.id = id
        self.client = client
        conduit = Conduit(runtime: client.runtime, target: url, proxy: proxy, tls: client.tls, userAgent: client.userAgent)
        var key = [UInt8](repeating: 0, count: 16)
        var random = SystemRandomNumberGenerator()
        for index in key.indices { key[index] = random.next() }
        handshake = WebSocketHandshake(hostHeader: url.hostHeader, target: url.requestTarget, key: key,
                                       extraHeaders: [("User-Agent", client.userAgent)])
        // The scanner validates every message strictly (UTF-8 included): the decoder does not
        // read each message a second time; a message the scanner refuses is checked then.
        decoder = WebSocketFrameDecoder(maxMessageSize: client.maxMessageSize, checksUnfragmentedText: false)
        conduit.owner = self
    }

    /// Service thread (links are released there): the conduit may outlive its owner.
    deinit { conduit.owner = nil }

    func start() { conduit.start() }

    /// Sends a close frame with `code`; TCP closes when the server answers (or the pool aborts).
    func close(code: UInt16) {
        guard phase == .open || phase == .upgrading else { return abort() }
        phase = .closing
        sendClose(code)
    }

    func abort() { conduit.abort() }

    /// The step this link is waiting on, for a timeout's message: a conduit step (DNS, TCP,
    /// proxy, TLS) until the conduit is open, then the upgrade's answer, then `hello`.
    var waitingFor: String {
        if let step = conduit.waitingFor { return step }
        return phase == .upgrading ? "WebSocket upgrade answer" : "hello"
    }

    /// Asks for a writeable callback if frames wait.
    func flush() { if !writer.isEmpty { conduit.requestWrite() } }

    // MARK: ConduitOwner

    func conduitOpened() {
        phase = .upgrading
        conduit.send(handshake.request)
    }

    func conduitReceived(_ bytes: UnsafeRawBufferPointer) {
        var frames = bytes
        if phase == .upgrading {
            do {
                guard let used = try handshake.receive(bytes) else { return }
                phase = .open
                reportedOpen = true
                client.linkOpened(self)
                frames = UnsafeRawBufferPointer(rebasing: bytes[used...])
            } catch {
                // Reported once, by `conduitEnded`, with this error.
                phase = .ended
                conduit.abort(.upgrade(error.description))
                return
            }
        }
        guard phase == .open || phase == .closing, frames.count > 0 else { return }
        do {
            try decoder.decode(frames) { message in self.handle(message) }
            if let error = textError, phase == .open { fail(error) }
        } catch {
            fail(error)
        }
        flush()
        client.afterBatch()
    }

    func conduitWillWrite() {
        guard !writer.isEmpty else { return }
        writer.withUnsafeBytes { conduit.send($0) }
        writer.removeAll()
        unwrittenAcks.removeAll(keepingCapacity: true)
        if closeSent && closeCodeReceived != nil { conduit.close() }
    }

    func conduitEnded(_ error: TransportError?) {
        let wasOpen = reportedOpen
        phase = .ended
        if let error { client.noteTransportError(error) }
        client.linkEnded(self, wasOpen: wasOpen, closeCode: closeCodeReceived, error: error)
    }

    /// The server broke the protocol: report it and close with the error's code.
    private func fail(_ error: WebSocketProtocolError) {
        client.noteProtocolError(error, on: self)
        if !closeSent { sendClose(error.closeCode) }
        phase = .closing
    }

    // MARK: Messages

    private func handle(_ message: WebSocketMessage) {
        switch message {
        case .text(let frame):
            guard textError == nil else { return }
            if !client.receive(frame: frame, on: self) { textError = WebSocketProtocolError(.invalidUTF8) }
        case .binary:
            client.noteBinaryFrame(on: self)
        case .ping(let payload):
            var random = client.maskRandom
            try? writer.appendPong(payload, using: &random)
            client.maskRandom = random
            client.pingReceived(on: self)
        case .pong(let payload):
            client.pongReceived(payload, on: self)
        case .close(let code, _):
            closeCodeReceived = code ?? 1005
            if closeSent {
                conduit.close()
                phase = .closing
            } else {
                // The pool echoes the code (RFC 6455 §5.5.1) with `.close` and stops sending
                // acks here; TCP closes once the echo is written.
                client.peerClosing(self, code: code ?? 1000)
            }
        }
    }

    private func sendClose(_ code: UInt16) {
        guard !closeSent else { return }
        closeSent = true
        var random = client.maskRandom
        try? writer.appendClose(code: code, reason: "", using: &random)
        client.maskRandom = random
        conduit.requestWrite()
    }
}
