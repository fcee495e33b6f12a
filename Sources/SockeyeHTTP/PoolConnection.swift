import NIOCore
import SockeyeCore

/// One keep-alive connection of an `HTTPConnectionPool`, on the pool's event loop: sends one
/// request, parses its answer, and reports the outcome once.
final class PoolConnection {
    /// How an exchange ended.
    enum Outcome {
        /// A complete answer; `reusable` when the connection can carry the next request.
        case answered(HTTPResponse, reusable: Bool)
        /// No complete answer. `neverSent`: not one byte of the request was written, because
        /// the reused connection was found closed by the server before the write (it dropped
        /// an idle keep-alive connection), so the request provably never reached the server
        /// and may go out on another connection. Every other failure leaves a doubt (a server
        /// that read the request and closed, or answered too slowly, may have acted on it), so
        /// the request is not sent again: a POST is not safe to replay.
        case failed(HTTPConnectionPool.Failure, neverSent: Bool)
    }

    let channel: any Channel
    let handler: Handler
    private let maxResponseBytes: Int
    private let idleTimeout: TimeAmount
    private let onIdleClose: (PoolConnection) -> Void
    private var parser: HTTPResponseParser
    private var current: ((Outcome) -> Void)?
    private var receivedBytes = 0
    /// The first bytes of the current answer (its status line's start).
    private var answerStart: [UInt8] = []
    private var served = 0
    private var deadlineTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var closed = false
    /// The first TLS failure caught on the connection: why it closed, if it did.
    private var tlsFailure: String?

    init(channel: any Channel, maxResponseBytes: Int, idleTimeout: TimeAmount, onIdleClose: @escaping (PoolConnection) -> Void) {
        self.channel = channel
        self.maxResponseBytes = maxResponseBytes
        self.idleTimeout = idleTimeout
        self.onIdleClose = onIdleClose
        parser = HTTPResponseParser(maxBodyBytes: maxResponseBytes)
        handler = Handler()
        handler.connection = self
    }

    /// Sends `exchange`'s request; `done` is called once with the outcome.
    func start(_ exchange: PendingExchange, done: @escaping (Outcome) -> Void) {
        idleTimer?.cancel()
        idleTimer = nil
        guard !closed, !(served > 0 && peerHasClosed()) else {
            close()
            return done(.failed(.connectionClosed, neverSent: true))
        }
        current = done
        receivedBytes = 0
        answerStart.removeAll(keepingCapacity: true)
        parser = HTTPResponseParser(maxBodyBytes: maxResponseBytes)
        let loop = channel.eventLoop.assumeIsolated()
        deadlineTimer = loop.scheduleTask(deadline: exchange.deadline) { [self] in
            finish(.failed(.timeout, neverSent: false))
        }
        // A failed write may have put part of the request on the wire: not sent again.
        channel.writeAndFlush(exchange.request.bytes).assumeIsolated().whenFailure { [self] _ in
            finish(.failed(closedFailure, neverSent: false))
        }
    }

    /// Whether the kernel has already seen the server close this connection (its FIN or RST
    /// arrived) though the event loop has not read the end yet: the keep-alive race caught
    /// before any byte is written. Asked on the connection's event loop, where the socket
    /// option is read at once.
    private func peerHasClosed() -> Bool {
        #if os(Linux)
            guard let provider = channel as? any SocketOptionProvider else { return false }
            var state: UInt8?
            provider.getTCPInfo().assumeIsolated().whenSuccess { state = $0.tcpi_state }
            // 1 is TCP_ESTABLISHED; a FIN received makes it CLOSE_WAIT, an RST CLOSE.
            return state.map { $0 != 1 } ?? false
        #else
            return false
        #endif
    }

    func close() {
        guard !closed else { return }
        closed = true
        idleTimer?.cancel()
        channel.close(promise: nil)
    }

    private func finish(_ outcome: Outcome) {
        guard let done = current else { return }
        current = nil
        deadlineTimer?.cancel()
        deadlineTimer = nil
        if case .answered(_, true) = outcome {
            served += 1
            let loop = channel.eventLoop.assumeIsolated()
            idleTimer = loop.scheduleTask(in: idleTimeout) { [self] in
                close()
                onIdleClose(self)
            }
        } else {
            close()
        }
        done(outcome)
    }

    fileprivate func received(_ buffer: ByteBuffer) {
        guard current != nil else {
            // Bytes nobody asked for (an idle connection): the connection cannot be trusted.
            close()
            onIdleClose(self)
            return
        }
        receivedBytes += buffer.readableBytes
        if answerStart.count < 16 { answerStart.append(contentsOf: buffer.readableBytesView.prefix(16 - answerStart.count)) }
        let result: HTTPResponse?
        do throws(HTTPParseError) {
            result = try buffer.withUnsafeReadableBytes { bytes throws(HTTPParseError) in try parser.receive(bytes) }
        } catch {
            if case .bodyTooLarge(let limit) = error, let status = Self.status(answerStart) {
                return finish(.failed(.responseTooLarge(status: status, limit: limit), neverSent: false))
            }
            return finish(.failed(.malformedResponse("\(error)"), neverSent: false))
        }
        guard let response = result else { return }
        let extra = parser.lastConsumed < buffer.readableBytes
        let keepAlive = !extra && parser.endsByFraming && response.keepsConnectionOpen
        finish(.answered(response, reusable: keepAlive))
    }

    fileprivate func ended() {
        closed = true
        idleTimer?.cancel()
        guard current != nil else {
            onIdleClose(self)
            return
        }
        if receivedBytes > 0, let response = try? parser.receiveEnd() {
            return finish(.answered(response, reusable: false))
        }
        // The request was written: the server may have read it and acted on it before it
        // closed, so this is a failure for the caller to decide on, never a resend.
        finish(.failed(closedFailure, neverSent: false))
    }

    /// Why the connection ended under a request: its TLS failure if one was caught (a
    /// refused certificate ends the connection before the request is sent), else the close.
    private var closedFailure: HTTPConnectionPool.Failure {
        tlsFailure.map { .tls($0) } ?? .connectionClosed
    }

    fileprivate func caught(_ error: any Error) {
        if tlsFailure == nil { tlsFailure = PoolTLS.failure(error) }
    }

    /// The status code of an answer starting `HTTP/1.x NNN`.
    static func status(_ start: [UInt8]) -> Int? {
        guard start.count >= 12, start.starts(with: Array("HTTP/1.".utf8)), start[8] == 0x20 else { return nil }
        let digits = start[9..<12]
        guard digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    /// The connection's pipeline handler (after the TLS handler on an `https://` origin):
    /// bytes in, bytes out.
    final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        weak var connection: PoolConnection?
        /// Keeps the connection alive as long as its channel is.
        private var owner: PoolConnection?

        func handlerAdded(context: ChannelHandlerContext) { owner = connection }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            connection?.received(unwrapInboundIn(data))
        }

        func channelInactive(context: ChannelHandlerContext) {
            connection?.ended()
            owner = nil
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            connection?.caught(error)
            context.close(promise: nil)
        }
    }
}

/// One request, encoded for the wire: request line, header fields (with `Host` and
/// `Content-Length` added) and body.
public struct HTTPRequestBytes: Sendable {
    let bytes: ByteBuffer

    /// `method target` with `headers` and `body`, for `host` (the `Host` field's value).
    public init(method: String = "POST", target: String, host: String, headers: [(String, String)], body: [UInt8]) {
        var out = ByteBuffer()
        out.reserveCapacity(256 + body.count)
        out.writeString(method)
        out.writeStaticString(" ")
        out.writeString(target)
        out.writeStaticString(" HTTP/1.1\r\nHost: ")
        out.writeString(host)
        out.writeStaticString("\r\n")
        for (name, value) in headers {
            out.writeString(name)
            out.writeStaticString(": ")
            out.writeString(value)
            out.writeStaticString("\r\n")
        }
        out.writeStaticString("Content-Length: ")
        out.writeString(String(body.count))
        out.writeStaticString("\r\n\r\n")
        out.writeBytes(body)
        bytes = out
    }
}
