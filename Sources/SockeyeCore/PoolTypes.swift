/// Identifies one WebSocket connection of a pool. Never reused within a pool.
public struct ConnectionID: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Increasing from 1.
    public let rawValue: UInt64
    /// The id with this raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: ConnectionID, b: ConnectionID) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "conn#\(rawValue)" }
}

/// What `apps.connections.open` answered, as the transport saw it.
public enum ConnectionsOpenResult: Sendable, Hashable {
    /// `{"ok":true,"url":…}`.
    case url(String)
    /// `{"ok":false,"error":code}` (HTTP 200, or 429 with `ratelimited`), with the
    /// `Retry-After` header if there was one.
    case apiError(String, retryAfter: Duration?)
    /// Another HTTP status (5xx, 404 …) without a usable body.
    case httpStatus(Int, retryAfter: Duration?)
    /// No HTTP answer at all: DNS, TCP, TLS or timeout.
    case transportFailure(String)

    /// Error codes that no retry can fix: the token or the app's configuration is wrong
    /// (docs/protocol.md, Opening a connection). Everything else is retried with backoff.
    public static let fatalErrors: Set<String> = [
        "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired",
        "not_allowed_token_type", "missing_scope", "forbidden_team", "team_access_not_granted",
        "no_permission", "user_removed_from_team", "team_disabled", "ekm_access_denied",
        "enterprise_is_restricted", "invalid_arg_name", "invalid_form_data", "invalid_post_type",
        "missing_post_type", "invalid_charset", "deprecated_endpoint", "two_factor_setup_required",
    ]

    /// Whether retrying cannot succeed. HTTP 404 (wrong API base URL) is fatal too.
    public var isFatal: Bool {
        switch self {
        case .url: false
        case .apiError(let code, _): ConnectionsOpenResult.fatalErrors.contains(code)
        case .httpStatus(let status, _): status == 404 || status == 401 || status == 403
        case .transportFailure: false
        }
    }
}

/// The lifecycle of a pool.
public enum PoolState: Sendable, Hashable {
    /// Created, not started.
    case idle
    /// Started; no connection has reached `hello` yet (or all were lost).
    case connecting
    /// At least one connection is live.
    case running(live: Int, target: Int)
    /// `stop` was called: no new envelope is delivered; live connections stay open while
    /// the host can still ack what it holds (up to `drainTimeout`), then all close.
    case stopping
    /// Every connection is closed after `stop`.
    case stopped
    /// Nothing will be retried: a fatal `apps.connections.open` error or `link_disabled`.
    /// Connections still open keep delivering until Slack closes them.
    case failed(PoolFailure)
}

/// Why a pool gave up.
public enum PoolFailure: Sendable, Hashable {
    /// `apps.connections.open` returned an error no retry can fix.
    case fatalOpenError(String)
    /// Slack sent `disconnect{link_disabled}`: Socket Mode is off in the app's settings.
    case linkDisabled
}

/// How a connection came to be retired (replaced by a new one).
public enum RetireReason: Sendable, Hashable {
    case warning
    case refreshRequested
    /// Before `approximate_connection_time` runs out, in case the warning is lost.
    case proactive
    /// A `disconnect` with a reason this version does not know.
    case unknownDisconnect
}

/// Things worth a log line or a metric; the pool never hides them.
public enum PoolNotice: Sendable, Hashable {
    /// A connection received `hello`: Slack's count of the app's connections, the seconds
    /// before Slack recycles this one, and the Slack host serving it (`debug_info.host`).
    case hello(ConnectionID, numConnections: Int64?, approximateConnectionTime: Int64?, host: String?)
    /// Slack counts more connections for the app than this pool holds: stale ("ghost")
    /// registrations, or other processes sharing the app (not reported under a host's
    /// `.limitConnections`, where sharing is the point).
    case moreConnectionsThanOpen(ConnectionID, slackCount: Int64, open: Int)
    /// A connection is being replaced.
    case retiring(ConnectionID, RetireReason)
    /// `disconnect{too_many_websockets}`: the pool shrinks and backs off.
    case tooManyWebsockets(ConnectionID, newTarget: Int, retryIn: Duration)
    /// A connection closed or failed when nobody asked it to; a new one follows after `retryIn`.
    case connectionLost(ConnectionID, reason: ConnectionLoss)
    /// `apps.connections.open` failed and will be retried after `retryIn`.
    case openFailed(ConnectionsOpenResult, retryIn: Duration)
    /// A frame that was not valid, or not a Socket Mode message; it was dropped.
    case malformedFrame(ConnectionID, ScanError)
    /// A redelivered event (same team_id and event_id) was acked and not delivered again:
    /// its first copy was already acked, or too many redeliveries were already attached.
    case duplicateDropped(ConnectionID, DeliveryToken)
    /// A redelivery arrived on the connection while the first copy (`into`) is still
    /// unacknowledged: it is neither delivered nor acked now, but acked with the first copy
    /// (or released unacked if the first copy is nacked).
    case redeliveryCoalesced(ConnectionID, into: DeliveryToken)
    /// The drain after `.stop` reached `drainTimeout` with `unacknowledged` deliveries still
    /// held by the host; connections close anyway.
    case drainTimedOut(unacknowledged: Int)
    /// A dynamic pool changed its size; `reason` carries the measured load.
    case poolResized(from: Int, to: Int, reason: String)
    /// The ack guard acked an envelope the host had not acked in time.
    case ackGuardFired(DeliveryToken)
    /// An envelope passed Slack's 3 s deadline unacknowledged (ack guard off).
    case ackDeadlineMissed(DeliveryToken)
}

/// Why a connection was lost.
public enum ConnectionLoss: Sendable, Hashable {
    case connectTimeout
    case connectFailed(String)
    case helloTimeout
    /// No frame, ping or matching pong for the silence timeout: the peer is gone.
    case silence
    /// Frames kept arriving but none of the client's pings was answered for the pong
    /// timeout: Slack stopped reading this connection (its acks go nowhere).
    case pongTimeout
    /// The transport reported a close nobody asked for, with the close code if any.
    case closedByPeer(UInt16?)
}

/// A ping payload the pool asked to send, text `sockeye:<connection>:<sequence>`.
public struct PingPayload: Sendable, Hashable {
    /// The connection it is sent on.
    public let connection: ConnectionID
    /// Increasing per connection from 1.
    public let sequence: UInt64

    /// The bytes to send as the ping's application data.
    public var text: String { "sockeye:\(connection.rawValue):\(sequence)" }

    /// Parses a pong's payload; `nil` when it is not one of ours.
    public init?(pong bytes: UnsafeRawBufferPointer) {
        let prefix: StaticString = "sockeye:"
        guard bytes.count > prefix.utf8CodeUnitCount, bytes.count <= 48,
            KeyMatching.equals(UnsafeRawBufferPointer(rebasing: bytes[0..<prefix.utf8CodeUnitCount]), prefix)
        else { return nil }
        var numbers: [UInt64] = []
        var current: UInt64? = nil
        for byte in bytes[prefix.utf8CodeUnitCount...] {
            if byte == 0x3A {
                guard let value = current else { return nil }
                numbers.append(value)
                current = nil
            } else if byte >= 0x30 && byte <= 0x39 {
                let (times10, o1) = (current ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - 0x30))
                guard !o1 && !o2 else { return nil }
                current = sum
            } else {
                return nil
            }
        }
        guard let last = current, numbers.count == 1 else { return nil }
        self.init(connection: ConnectionID(rawValue: numbers[0]), sequence: last)
    }

    init(connection: ConnectionID, sequence: UInt64) {
        self.connection = connection
        self.sequence = sequence
    }
}

/// An acknowledgement to send: encode it with `encode(into:headroom:)`.
public struct AckMessage: Sendable, Hashable {
    /// The envelope it acknowledges.
    public let envelopeID: EnvelopeID
    /// The response payload (raw JSON object), if any; already validated when the pool
    /// made the message.
    public let payload: [UInt8]?

    /// An ack of `envelopeID`, with `payload` (raw JSON text of one object) if given. The
    /// payload is not checked here: `encode(into:headroom:)` rejects an invalid or
    /// oversized one.
    public init(envelopeID: EnvelopeID, payload: [UInt8]?) {
        self.envelopeID = envelopeID
        self.payload = payload
    }

    /// Writes the ack frame after `headroom` bytes of `buffer`; returns its length.
    public func encode(into buffer: UnsafeMutableRawBufferPointer, headroom: Int) throws(AckEncodingError) -> Int {
        let envelopeID = self.envelopeID
        let payload = self.payload
        let result: Result<Int, AckEncodingError> = envelopeID.withUnsafeBytes { id in
            if let payload {
                return payload.withUnsafeBytes { body in
                    Result { () throws(AckEncodingError) in
                        try AckEncoder.encode(envelopeID: id, payload: body, into: buffer, headroom: headroom)
                    }
                }
            }
            return Result { () throws(AckEncodingError) in
                try AckEncoder.encode(envelopeID: id, payload: nil, into: buffer, headroom: headroom)
            }
        }
        return try result.get()
    }
}

/// An envelope handed to the host. Its views index into the frame passed to
/// `PoolController.receive(frame:on:now:)`: resolve them before that buffer is reused.
public struct Delivery: Sendable, Hashable {
    /// Acknowledge with this (unless the pool acks on receipt).
    public let token: DeliveryToken
    /// The connection it arrived on.
    public let connection: ConnectionID
    /// The scanned envelope.
    public let envelope: Envelope
}

/// What the pool asks its host (the transport) to do. Drain with `nextAction()`; perform
/// them in order.
public enum PoolAction: Sendable, Hashable {
    /// Call `apps.connections.open` now; answer with `.urlResponse`. Never more than one
    /// outstanding.
    case requestURL
    /// Open a WebSocket to `url` (used for this connection only, never again); answer with
    /// `.opened`, `.connectFailed`, then eventually `.closed`.
    case connect(ConnectionID, url: String)
    /// Send this acknowledgement as one text frame on the connection.
    case sendAck(ConnectionID, AckMessage)
    /// Send a WebSocket ping with `payload.text` as its data.
    case sendPing(ConnectionID, PingPayload)
    /// Start the close handshake (send a close frame with `code`). The pool sends `.abort`
    /// if `.closed` does not follow within its close timeout.
    case close(ConnectionID, code: UInt16)
    /// Destroy the TCP connection now, without a handshake; answer with `.closed`.
    case abort(ConnectionID)
    /// Hand this envelope to the application.
    case deliver(Delivery)
    /// The pool's state changed.
    case stateChanged(PoolState)
    /// Something to log or count.
    case notice(PoolNotice)
}

/// What happened, as the transport reports it to the pool.
public enum PoolEvent: Sendable, Hashable {
    /// Begin: open the pool's connections.
    case start
    /// Stop gracefully: deliver nothing new (envelopes arriving now are neither delivered
    /// nor acked, so Slack redelivers them), keep live connections open while the host
    /// still holds unacknowledged deliveries, up to `drainTimeout`, then close every
    /// connection with 1000.
    case stop
    /// Stop at once: close every connection now, without waiting for outstanding acks.
    case stopNow
    /// The answer to the outstanding `.requestURL`.
    case urlResponse(ConnectionsOpenResult)
    /// The WebSocket handshake of a `.connect` succeeded.
    case opened(ConnectionID)
    /// A `.connect` failed before the WebSocket was open.
    case connectFailed(ConnectionID, reason: String)
    /// The connection is closed (by either side, or aborted); nothing more will come on it.
    case closed(ConnectionID, code: UInt16?)
    /// A WebSocket ping arrived from Slack (the transport answers it with a pong itself).
    case pingReceived(ConnectionID)
    /// Slack sent a close frame on the connection. The transport does not answer it: the
    /// pool does at once, with `.close` echoing `code`, and sends no more acks on it (they
    /// go out on another live connection).
    case peerClosing(ConnectionID, code: UInt16)
    /// Time passed: handle everything due at `now` (call at `nextDeadline`).
    case timer
    /// From now on hold at most this many connections, and this many sockets with those
    /// being replaced (nil: no limit but the configuration's): a cluster's share of the app's
    /// connections. Connections over a lower limit are closed at once (1000), those with the
    /// fewest unacknowledged envelopes first, then those being replaced; their owed acks go
    /// out on the others.
    case limitConnections(ConnectionLimit?)
}

/// How the pool acknowledges envelopes.
public enum AckMode: Sendable, Hashable {
    /// Ack as soon as an envelope is scanned, before the host sees it: fastest, and Slack
    /// never retries; the host must not lose what it was given.
    case onReceipt
    /// The host acks when its handler returns (the ABI does this for callbacks).
    case afterHandler
    /// The host acks explicitly, optionally with a response payload.
    case manual
}

/// The answer to `PoolController.nack`.
public enum NackOutcome: Sendable, Hashable {
    /// Nothing was acked; the ack guard stands down, and Slack's redelivery of the event
    /// will be delivered again. Redeliveries attached to it were released unacked.
    case accepted
    /// Already acked (by the host, on receipt, or by the ack guard) or already nacked:
    /// too late to refuse.
    case alreadyAcked
    /// Not a token of this pool, or too old to remember.
    case unknown
}

/// The answer to `PoolController.ack`.
public enum AckOutcome: Sendable, Hashable {
    /// Sent (or queued for the next live connection) before the deadline.
    case accepted
    /// Sent, but after Slack's 3 s deadline; Slack has probably retried already.
    case late
    /// Already acked (by the host, on receipt, or by the ack guard).
    case alreadyAcked
    /// Not a token of this pool, or too old to remember.
    case unknown
    /// The response payload is invalid or makes the ack too large; nothing was sent.
    case rejected(AckEncodingError)
}
