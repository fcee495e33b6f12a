import SockeyeCore

/// Everything one Slack app's client is set up with.
public struct ClientConfiguration: Sendable {
    /// The app-level token (`xapp-…`) with `connections:write`.
    public var appToken: String
    /// The Web API base URL; `apps.connections.open` is called below it.
    public var apiBaseURL: String = "https://slack.com/api/"
    /// The pool: size, ack mode, ack guard, de-duplication window, timings.
    public var pool = PoolConfiguration()
    /// Proxies; by default read from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (lowercase too).
    public var proxy: ProxySettings?
    /// A PEM file of CA certificates to trust instead of the system store (TLS-inspecting
    /// proxies, test servers); `nil` uses the system store, or `SSL_CERT_FILE` if set.
    public var caFile: String?
    /// The largest WebSocket message accepted; a bigger one closes the connection with 1009.
    public var maxMessageSize: Int = 1 << 20
    /// Sent as `User-Agent` on every request.
    public var userAgent: String = "sockeye/\(SockeyeVersion.string)"
    /// The deadline of one `apps.connections.open` call, over the whole exchange: DNS, TCP,
    /// the proxy's CONNECT, the TLS handshake and the answer (0.1…300 s, 10 s by default).
    /// When it passes the call fails as a transport failure naming the step that stalled,
    /// and the pool asks again after its backoff. The WebSocket upgrade that follows is
    /// bounded by the pool's `connectTimeout` (connect to `101`) and `helloTimeout`.
    public var webAPITimeout: Duration = TransportRuntime.defaultWebAPITimeout
    /// The bound of the consumer's queue, for hosts that queue deliveries and report each
    /// one taken (`AppClient.taken`): when that many are waiting, the client stops reading
    /// its connections until the consumer has taken half of them (`IntakeGate`; 1…10 000 000,
    /// clamped). `nil`: the host takes every delivery in its callback and nothing is counted.
    public var maxQueuedEvents: Int? = nil

    /// The default bound of a consumer's queue (`maxQueuedEvents`).
    public static let defaultMaxQueuedEvents = 10_000
    /// The values `maxQueuedEvents` is clamped to.
    public static let maxQueuedEventsRange = 1...10_000_000

    /// A configuration for `appToken` with the defaults.
    public init(appToken: String) { self.appToken = appToken }
}

/// What the transport reports besides envelopes and states: the pool's notices and the
/// transport's own errors, for logs and metrics.
public enum ClientNotice: Sendable, Hashable {
    /// A notice of the pool (hello, refresh, loss, backoff, duplicates, ack guard …).
    case pool(PoolNotice)
    /// A connection failed at one layer (DNS, TCP, proxy, TLS, HTTP, upgrade).
    case transport(TransportError)
    /// The server broke the WebSocket protocol; the connection was closed with the error's code.
    case protocolViolation(ConnectionID, WebSocketProtocolError)
    /// An ack reached the pool after Slack's deadline.
    case lateAck(DeliveryToken)
}

/// A client's counters at one moment (`SocketModeClient.stats`). A copy of what the
/// transport publishes after each batch of work, so reading it never waits for the service
/// thread.
public struct SocketModeStats: Sendable, Hashable {
    /// The pool's own counters (envelopes received and delivered, acks sent, duplicates
    /// dropped, connections opened and lost, Slack's count of the app's connections …).
    public var pool = PoolMetrics()
    /// Acks and nacks the application asked for.
    public var hostAcks = 0
    public var hostNacks = 0
    /// Acks the application sent after Slack's deadline.
    public var lateAcks = 0
    /// Acks for envelopes already answered or unknown.
    public var staleAcks = 0
    /// Connection failures, by any layer.
    public var transportErrors = 0
    /// Of those, the exchanges that passed their deadline.
    public var timeouts = 0
    /// WebSocket protocol violations by the server.
    public var protocolErrors = 0
    /// The latest transport error, for a status line.
    public var lastError: String?
    /// Live WebSocket connections now.
    public var liveConnections = 0
    /// Connections the pool wants now.
    public var targetConnections = 0
    /// Connections being recycled (by Slack, or retired by the pool) that are not gone yet.
    public var replacingConnections = 0
    /// Envelopes delivered and not answered yet.
    public var outstandingAcks = 0
    /// Events waiting in `events` now, and the most there ever were.
    public var queuedEvents = 0
    public var peakQueuedEvents = 0
    /// Times the client stopped reading because `maxQueuedEvents` were waiting.
    public var intakePauses = 0
    /// Bytes received and sent on WebSocket connections (after TLS).
    public var bytesReceived = 0
    public var bytesSent = 0
    /// The pool's state.
    public var state: PoolState = .idle

    /// All zero (a client that has not connected yet reads the same).
    public init() {}
}

/// An envelope received for the host. It owns one copy of its frame, stored inline in the
/// same heap allocation as its fields (one allocation per envelope, shared by copies of
/// this value); the scanner's views index into that copy, so every field is read without
/// another copy. Immutable, so it may be read from any thread.
public struct ReceivedEnvelope: @unchecked Sendable {
    /// The fields stored in front of the frame's bytes.
    struct Fields {
        let envelope: Envelope
        let token: DeliveryToken
        let connection: ConnectionID
        let receivedAt: UInt64
        let frameCount: Int
    }

    /// The one allocation: the fields, then the frame's bytes. Never mutated after `make`.
    final class Storage: ManagedBuffer<Fields, UInt8> {}

    let storage: Storage

    /// A copy of `frame` with the delivery's fields.
    init(frame: UnsafeRawBufferPointer, delivery: Delivery, receivedAt: UInt64) {
        let buffer = Storage.create(minimumCapacity: max(frame.count, 1)) { _ in
            Fields(envelope: delivery.envelope, token: delivery.token, connection: delivery.connection,
                   receivedAt: receivedAt, frameCount: frame.count)
        }
        storage = unsafeDowncast(buffer, to: Storage.self)
        if let source = frame.baseAddress, frame.count > 0 {
            storage.withUnsafeMutablePointerToElements {
                $0.initialize(from: source.assumingMemoryBound(to: UInt8.self), count: frame.count)
            }
        }
    }

    /// The scanned envelope: views into the frame.
    public var envelope: Envelope { storage.header.envelope }
    /// The pool's handle for acknowledging it.
    public var token: DeliveryToken { storage.header.token }
    /// The connection it arrived on.
    public var connection: ConnectionID { storage.header.connection }
    /// Monotonic nanoseconds at receipt.
    public var receivedAt: UInt64 { storage.header.receivedAt }

    /// Calls `body` with the frame's bytes (the whole JSON envelope as received), valid
    /// during the call; they live as long as this value or a copy of it.
    public func withFrameBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let count = storage.header.frameCount
        return try storage.withUnsafeMutablePointerToElements { try body(UnsafeRawBufferPointer(start: $0, count: count)) }
    }

    /// A copy of the frame's bytes.
    public var frame: [UInt8] { withFrameBytes { Array($0) } }

    /// Calls `body` with the bytes `view` covers (empty when absent).
    public func withBytes<R>(of view: ByteView, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withFrameBytes { all in
            try body(view.isPresent ? view.bytes(in: all) : UnsafeRawBufferPointer(start: nil, count: 0))
        }
    }

    /// The decoded text of a string view (escapes resolved); `nil` when absent.
    public func string(_ view: ByteView) -> String? {
        guard view.isPresent else { return nil }
        return withFrameBytes { all in
            let raw = view.bytes(in: all)
            guard view.isEscaped else { return String(decoding: raw, as: UTF8.self) }
            var decoded = [UInt8](repeating: 0, count: raw.count)
            let length = decoded.withUnsafeMutableBytes { JSONStringDecoder.decode(raw, into: $0) } ?? 0
            return String(decoding: decoded[0..<length], as: UTF8.self)
        }
    }
}

/// Where a client's envelopes, states and notices go. Every closure runs on the runtime's
/// service thread and must return quickly: hand the work to another thread or queue.
public struct ClientCallbacks: Sendable {
    public var envelope: @Sendable (ReceivedEnvelope) -> Void
    public var state: @Sendable (PoolState) -> Void
    public var notice: @Sendable (ClientNotice) -> Void
    /// Called after a batch of work (one read's frames, one batch of host commands) that
    /// delivered envelopes: a host that queues envelopes can hand the batch over at once
    /// (one wake-up of its consumer per batch, not per envelope).
    public var batchEnd: @Sendable () -> Void

    public init(envelope: @escaping @Sendable (ReceivedEnvelope) -> Void,
                state: @escaping @Sendable (PoolState) -> Void = { _ in },
                notice: @escaping @Sendable (ClientNotice) -> Void = { _ in },
                batchEnd: @escaping @Sendable () -> Void = {}) {
        self.envelope = envelope
        self.state = state
        self.notice = notice
        self.batchEnd = batchEnd
    }
}
