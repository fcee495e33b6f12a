import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on SwiftNIO for request/response exchanges that must be cheap:
/// the daemon's operations listener and HTTP ingress, the benchmark backend.
///
/// Each complete request (head and body, at most `Limits.bodyLimit` bytes) is given to the
/// handler on the connection's event loop; the handler must not block, and answers through
/// the `HTTPResponseSender` it gets — at once, or later from any thread. Keep-alive and
/// pipelining are honoured (responses leave in request order), `Expect: 100-continue` is
/// answered, a body over the limit gets 413 and the connection closes, a request NIO's
/// HTTP/1 decoder cannot parse gets 400, and a connection idle for `Limits.idleTimeout` with
/// nothing pending is closed.
///
/// `start()` binds (and throws when it cannot); `waitUntilStopped()` returns once the
/// listening socket is closed; `stop()` closes it, lets requests in progress be answered,
/// and closes idle connections (`ChannelShouldQuiesceEvent`). Thread-safe.
public final class HTTPServer: Sendable {
    /// Called on the event loop for each complete request.
    public typealias Handler = @Sendable (HTTPServerRequest, HTTPResponseSender) -> Void

    /// What the server accepts.
    public struct Limits: Sendable {
        /// The largest body taken for a request (by its head: method and path).
        public var bodyLimit: @Sendable (HTTPRequestHead) -> Int
        /// Called when a request is refused with 413 (for counting).
        public var onRefusedTooLarge: @Sendable (HTTPRequestHead) -> Void
        /// An open connection with nothing to read and nothing pending is closed after this.
        public var idleTimeout: TimeAmount

        public init(bodyLimit: @escaping @Sendable (HTTPRequestHead) -> Int = { _ in 1 << 20 },
                    onRefusedTooLarge: @escaping @Sendable (HTTPRequestHead) -> Void = { _ in },
                    idleTimeout: TimeAmount = .seconds(75)) {
            self.bodyLimit = bodyLimit
            self.onRefusedTooLarge = onRefusedTooLarge
            self.idleTimeout = idleTimeout
        }
    }

    private let host: String
    private let requestedPort: Int
    private let limits: Limits
    private let handler: Handler
    private let group: any EventLoopGroup
    private struct State {
        var outboxes: [ObjectIdentifier: ResponseOutbox] = [:]
        var listener: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var stopped = false
    }
    private let state = Mutex(State())

    /// A server for `host:port` (port 0: any free port) answering with `handler`.
    public init(host: String, port: Int, limits: Limits = Limits(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                handler: @escaping Handler) {
        self.host = host
        self.requestedPort = port
        self.limits = limits
        self.handler = handler
        self.group = group
    }

    /// The bound port, once `start()` returned.
    public var port: Int? { state.withLock { $0.listener?.localAddress?.port } }

    /// Binds the listening socket; throws when it cannot (address in use, bad host).
    public func start() async throws {
        let limits = self.limits
        let handler = self.handler
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    let outbox = self?.outbox(for: channel.eventLoop) ?? ResponseOutbox(eventLoop: channel.eventLoop)
                    try pipeline.addHandler(RequestCollector(limits: limits, outbox: outbox, handler: handler))
                    self?.track(channel)
                }
            }
        let listener = try await bootstrap.bind(host: host, port: requestedPort).get()
        let keep = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.listener = listener
            return true
        }
        if !keep { try? await listener.close() }
    }

    /// Runs until `stop()` (start first).
    public func waitUntilStopped() async {
        guard let listener = state.withLock({ $0.listener }) else { return }
        try? await listener.closeFuture.get()
    }

    /// Stops listening; requests in progress are answered, then every connection closes.
    public func stop() async {
        let (listener, connections) = state.withLock { state in
            state.stopped = true
            return (state.listener, Array(state.connections.values))
        }
        try? await listener?.close()
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// The outbox of `eventLoop` (one per loop, shared by its connections).
    private func outbox(for eventLoop: any EventLoop) -> ResponseOutbox {
        state.withLock { state in
            if let existing = state.outboxes[ObjectIdentifier(eventLoop)] { return existing }
            let made = ResponseOutbox(eventLoop: eventLoop)
            state.outboxes[ObjectIdentifier(eventLoop)] = made
            return made
        }
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let accepted = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.connections[id] = channel
            return true
        }
        guard accepted else {
            channel.close(promise: nil)
            return
        }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
        }
    }
}
