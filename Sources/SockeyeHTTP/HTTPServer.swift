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
/// listening socket is closed; `stop()` closes it, closes idle connections
/// (`ChannelShouldQuiesceEvent`), and returns once the requests in progress are answered
/// and their connections closed too (or its deadline passed). Thread-safe.
public final class HTTPServer: Sendable {
    /// Called on the event loop for each complete request.
    public typealias Handler = @Sendable (HTTPServerRequest, HTTPResponseSender) -> Void

    /// What the server accepts. The defaults suit a trusted client; listeners facing
    /// strangers set them from their configuration.
    public struct Limits: Sendable {
        /// The largest body taken for a request (by its head: method and path).
        public var bodyLimit: @Sendable (HTTPRequestHead) -> Int
        /// Looks at each head before anything else: a refusal is answered at once, without
        /// reading the body, and the connection closes (a path nobody serves, a wrong `Host`).
        public var screen: @Sendable (HTTPRequestHead) -> Refusal?
        /// Called when a request is refused with 413 (for counting).
        public var onRefusedTooLarge: @Sendable (HTTPRequestHead) -> Void
        /// Called for every request or connection refused by these limits (for counting and
        /// logging); on an event loop, must not block.
        public var onRejected: @Sendable (RejectionReason) -> Void
        /// An open connection with nothing to read and nothing pending is closed after this.
        public var idleTimeout: TimeAmount
        /// A request head must be complete within this of its first byte (absolute).
        public var headTimeout: TimeAmount
        /// A body must be complete within `bodyTimeout + size / minBodyBytesPerSecond`.
        public var bodyTimeout: TimeAmount
        public var minBodyBytesPerSecond: Int
        /// Connections open at once. One more closes an idle connection to make room, or is
        /// closed when accepted if none is idle.
        public var maxConnections: Int
        /// Requests on one connection; the last one's answer says `Connection: close`.
        public var maxRequestsPerConnection: Int

        public init(bodyLimit: @escaping @Sendable (HTTPRequestHead) -> Int = { _ in 1 << 20 },
                    screen: @escaping @Sendable (HTTPRequestHead) -> Refusal? = { _ in nil },
                    onRefusedTooLarge: @escaping @Sendable (HTTPRequestHead) -> Void = { _ in },
                    onRejected: @escaping @Sendable (RejectionReason) -> Void = { _ in },
                    idleTimeout: TimeAmount = .seconds(75), headTimeout: TimeAmount = .seconds(10),
                    bodyTimeout: TimeAmount = .seconds(10), minBodyBytesPerSecond: Int = 16 * 1024,
                    maxConnections: Int = 1024, maxRequestsPerConnection: Int = 1000) {
            self.bodyLimit = bodyLimit
            self.screen = screen
            self.onRefusedTooLarge = onRefusedTooLarge
            self.onRejected = onRejected
            self.idleTimeout = idleTimeout
            self.headTimeout = headTimeout
            self.bodyTimeout = bodyTimeout
            self.minBodyBytesPerSecond = max(1, minBodyBytesPerSecond)
            self.maxConnections = max(1, maxConnections)
            self.maxRequestsPerConnection = max(1, maxRequestsPerConnection)
        }

        /// How often each connection checks its deadlines: often enough for the shortest.
        var tick: TimeAmount {
            let shortest = min(idleTimeout, headTimeout, bodyTimeout)
            return max(.milliseconds(10), min(.seconds(1), .nanoseconds(shortest.nanoseconds / 4)))
        }
    }

    /// A request answered without reading its body; the connection closes after it.
    public struct Refusal: Sendable {
        public var response: HTTPServerResponse
        public var reason: RejectionReason
        public init(_ response: HTTPServerResponse, reason: RejectionReason) {
            self.response = response
            self.reason = reason
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
        var connections: [ObjectIdentifier: (channel: any Channel, slot: ConnectionSlot)] = [:]
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
            // Out of file descriptors (EMFILE), accept fails while the connection stays in the
            // backlog: without a pause the loop would retry at once, for ever (`AcceptPause`).
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptPause())
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    guard let server = self else { return channel.close(promise: nil) }
                    let slot = ConnectionSlot()
                    switch server.track(channel, slot, limit: limits.maxConnections) {
                    case .accepted:
                        break
                    case .evicted(let idle):
                        // At the cap, a connection with nothing in progress makes room: a flood
                        // of idle connections cannot lock real clients out.
                        limits.onRejected(.idleEvicted)
                        idle.close(promise: nil)
                    case .refused:
                        // Beyond the cap with every connection busy (or stopping): closed at
                        // once, before reading anything.
                        limits.onRejected(.connectionLimit)
                        return channel.close(promise: nil)
                    }
                    let deadlines = ConnectionDeadlines(accepted: .now(), idle: limits.idleTimeout, head: limits.headTimeout,
                                                        bodyBase: limits.bodyTimeout, minBodyBytesPerSecond: limits.minBodyBytesPerSecond)
                    let connection = ServerConnection(channel: channel, deadlines: deadlines, slot: slot)
                    let pipeline = channel.pipeline.syncOperations
                    try pipeline.addHandler(ByteWatcher(connection: connection))
                    try pipeline.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)))
                    try pipeline.addHandler(RequestCollector(limits: limits, connection: connection,
                                                             outbox: server.outbox(for: channel.eventLoop), handler: handler))
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
    /// Returns once the listening socket and every connection are closed: a connection whose
    /// answer has not come within `deadline` (a handler that never answers) is closed then.
    public func stop(deadline: TimeAmount = .seconds(10)) async {
        let (listener, connections) = state.withLock { state in
            state.stopped = true
            return (state.listener, state.connections.values.map(\.channel))
        }
        // Everything is started from here, and only the end is awaited: the close, the
        // quiescing and the deadline run on the event loops, whenever this task resumes.
        listener?.close(promise: nil)
        for connection in connections {
            connection.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        let loop = group.next()
        let cutoff = loop.scheduleTask(in: deadline) {
            for connection in connections { connection.close(promise: nil) }
        }
        let closes = connections.map(\.closeFuture) + [listener?.closeFuture].compactMap { $0 }
        try? await EventLoopFuture.andAllComplete(closes, on: loop).get()
        cutoff.cancel()
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

    private enum Admission {
        case accepted
        /// Accepted in place of this idle connection, which the caller closes.
        case evicted(any Channel)
        case refused
    }

    /// Counts `channel` among the open connections. At `limit`, an idle connection (nothing
    /// read of a request, nothing waiting for an answer) is dropped from the count to make
    /// room; when none is idle, or the server is stopping, `channel` is refused.
    private func track(_ channel: any Channel, _ slot: ConnectionSlot, limit: Int) -> Admission {
        let id = ObjectIdentifier(channel)
        let admission = state.withLock { state -> Admission in
            guard !state.stopped else { return .refused }
            var outcome = Admission.accepted
            if state.connections.count >= limit {
                // The longest idle goes: a client that has just connected and not yet sent
                // its request is the newest, so a flood of new connections cannot push it out.
                var oldest: (key: ObjectIdentifier, channel: any Channel, since: NIODeadline)?
                for (key, entry) in state.connections {
                    guard let since = entry.slot.idleSince, since < (oldest?.since ?? .distantFuture) else { continue }
                    oldest = (key, entry.channel, since)
                }
                guard let idle = oldest else { return .refused }
                state.connections.removeValue(forKey: idle.key)
                outcome = .evicted(idle.channel)
            }
            state.connections[id] = (channel, slot)
            return outcome
        }
        if case .refused = admission { return admission }
        channel.closeFuture.whenComplete { [weak self] _ in
            _ = self?.state.withLock { $0.connections.removeValue(forKey: id) }
        }
        return admission
    }

    /// Connections open now.
    public var connectionCount: Int { state.withLock { $0.connections.count } }
}

/// Why a listener refused a connection or a request (a metric label).
public enum RejectionReason: String, Sendable, CaseIterable {
    /// `maxConnections` were open.
    case connectionLimit = "connection_limit"
    /// The head did not arrive within `headTimeout`.
    case headTimeout = "head_timeout"
    /// The body did not arrive within its deadline.
    case bodyTimeout = "body_timeout"
    /// An idle connection closed to make room for a new one at `maxConnections`.
    case idleEvicted = "idle_evicted"
    /// The body is larger than the path's limit (413).
    case tooLarge = "too_large"
    /// No one serves the path (404, body not read).
    case unknownPath = "unknown_path"
    /// The `Host` is not one this listener answers (421).
    case host
    /// A method the path does not take (405).
    case method
    /// Not HTTP/1.1 the decoder can parse (400).
    case malformed
    /// A request the listener's handler refused (e.g. a bad signature).
    case unauthorized
}
