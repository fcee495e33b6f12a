/// Everything the core needs from one Socket Mode frame, as views into that frame.
///
/// Produced by `EnvelopeScanner.scan(_:options:)`. Views index into the scanned buffer;
/// the struct itself holds no pointers, so it can be stored and sent across threads, but
/// its views can only be resolved against the same bytes.
///
/// Fields that are absent, or present with an unexpected JSON type, are `.absent` (views)
/// or `nil` (scalars). A field of the wrong type also sets `Flags.fieldTypeMismatch`.
/// Duplicate keys: the last occurrence wins, as in every peer SDK's JSON parser (Python
/// `json`, JavaScript `JSON.parse`, Go `encoding/json`) and in jansson, so every reader of
/// a frame acknowledges the same `envelope_id`; a recognised member that appears twice
/// sets `Flags.duplicateKey`.
public struct Envelope: Sendable, Hashable {
    /// Anomalies in a frame that was nevertheless accepted.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt32
        @inlinable public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// A recognised member appeared more than once at the same level; the last won.
        public static let duplicateKey = Flags(rawValue: 1 << 0)
        /// A recognised member had an unexpected JSON type and was treated as absent.
        public static let fieldTypeMismatch = Flags(rawValue: 1 << 1)
    }

    /// What the frame is.
    public var kind: MessageKind = .unknown
    /// The raw `type` string.
    public var type: ByteView = .absent
    /// `envelope_id`: the key of the acknowledgement.
    public var envelopeID: ByteView = .absent
    /// `payload`: the whole JSON value (normally an object), unparsed.
    public var payload: ByteView = .absent
    /// `accepts_response_payload`.
    public var acceptsResponsePayload: Bool? = nil
    /// `retry_attempt` (0 on a first delivery), when it is an integer.
    public var retryAttempt: Int64? = nil
    /// `retry_reason` (`""` on a first delivery, `"timeout"` on retries).
    public var retryReason: ByteView = .absent
    /// `payload.event_id`: with `teamID`, the de-duplication key.
    public var eventID: ByteView = .absent
    /// `payload.team_id`, or else `payload.team.id` (interactive payloads).
    public var teamID: ByteView = .absent
    /// `payload.type`: `event_callback`, `app_rate_limited`, `block_actions`, …
    public var payloadType: ByteView = .absent
    /// `payload.event.type`: `message`, `app_mention`, … (absent for `app_rate_limited`).
    public var eventType: ByteView = .absent
    /// `hello.num_connections`: how many connections Slack counts for the app.
    public var numConnections: Int64? = nil
    /// `hello.connection_info.app_id`.
    public var appID: ByteView = .absent
    /// `debug_info.host`: the Slack backend that sent the message.
    public var debugHost: ByteView = .absent
    /// `hello.debug_info.build_number`.
    public var buildNumber: Int64? = nil
    /// `hello.debug_info.approximate_connection_time`, in seconds.
    public var approximateConnectionTime: Int64? = nil
    /// `disconnect.reason`, raw.
    public var reason: ByteView = .absent
    /// `disconnect.reason`, classified.
    public var disconnectReason: DisconnectReason = .none
    /// Anomalies seen while scanning.
    public var flags: Flags = []

    /// An envelope with every field absent.
    @inlinable public init() {}

    /// Whether Slack expects this message to be acknowledged: it is an envelope kind and
    /// it carries an `envelope_id`.
    @inlinable
    public var needsAck: Bool { kind.isEnvelope && envelopeID.isPresent }
}

/// Limits the scanner enforces. Both guard against hostile or broken peers.
public struct ScanOptions: Sendable, Hashable {
    /// Frames longer than this are refused with `.frameTooLarge` before any byte is read.
    /// Slack's largest envelopes (block_actions with big views) are tens of KB.
    public var maxFrameSize: Int
    /// Objects and arrays may nest this deep (the envelope object itself is depth 1).
    public var maxDepth: Int

    /// 1 MiB frames, depth 128.
    public static let `default` = ScanOptions(maxFrameSize: 1 << 20, maxDepth: 128)

    /// Options with the given limits; `maxFrameSize` is capped below 4 GiB and
    /// `maxDepth` to 1...4096.
    public init(maxFrameSize: Int, maxDepth: Int) {
        self.maxFrameSize = min(max(0, maxFrameSize), Int(UInt32.max) - 1)
        self.maxDepth = min(max(1, maxDepth), 4096)
    }
}
