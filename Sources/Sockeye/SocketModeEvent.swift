import Glibc
import SockeyeCore
import SockeyeTransport
import Synchronization

/// One envelope from Slack: an Events API event, a slash command or an interactive payload.
///
/// It owns one copy of the frame it came in; `payload` and the other fields are read from
/// that copy without another. Answer it once, from any thread: `ack(payload:)` (with a
/// response payload for commands and interactivity when `acceptsResponsePayload`) or
/// `nack()` (Slack redelivers it, and the redelivery is delivered again). In the
/// `afterHandler` ack mode an event released unanswered is acked empty; in `manual` mode it
/// is left to the ack guard.
public final class SocketModeEvent: Sendable {
    private let received: ReceivedEnvelope
    private let client: AppClient
    private let ackMode: AckMode
    /// 0 unanswered, 1 acked, 2 nacked.
    private let answer = Atomic<UInt8>(0)

    init(_ received: ReceivedEnvelope, client: AppClient, ackMode: AckMode) {
        self.received = received
        self.client = client
        self.ackMode = ackMode
    }

    deinit {
        if ackMode == .afterHandler, answer.load(ordering: .relaxed) == 0 {
            client.ack(received.token)
        }
        // The frame is freed where it was allocated (see `AppClient.letGoOnServiceThread`).
        client.letGoOnServiceThread(received)
    }

    /// What kind of envelope this is.
    public var kind: MessageKind { received.envelope.kind }
    /// The envelope's `type` (`events_api`, `slash_commands`, `interactive`, or a new one).
    public var type: String { received.string(received.envelope.type) ?? "" }
    /// The envelope id Slack will match the ack against.
    public var envelopeID: String { received.string(received.envelope.envelopeID) ?? "" }
    /// `payload.event.type` for Events API envelopes (`message`, `app_mention` …).
    public var eventType: String? { received.string(received.envelope.eventType) }
    /// `payload.type` (`event_callback`, `block_actions`, `view_submission` …).
    public var payloadType: String? { received.string(received.envelope.payloadType) }
    /// The workspace (`payload.team_id`, or `payload.team.id`).
    public var teamID: String? { received.string(received.envelope.teamID) }
    /// `payload.event_id`, the key Slack's retries share.
    public var eventID: String? { received.string(received.envelope.eventID) }
    /// Slack's retry count (0 for a first delivery).
    public var retryAttempt: Int { Int(received.envelope.retryAttempt ?? 0) }
    /// Why Slack retried (`timeout` …), when it did.
    public var retryReason: String? { received.string(received.envelope.retryReason) }
    /// Whether the ack may carry a response payload (commands, some interactivity).
    public var acceptsResponsePayload: Bool { received.envelope.acceptsResponsePayload ?? false }
    /// The connection it arrived on.
    public var connection: ConnectionID { received.connection }
    /// How long ago its frame was read from the socket (for ack-latency metrics).
    public var age: Duration {
        let now = MonotonicClock.now()
        return .nanoseconds(Int64(clamping: now &- min(now, received.receivedAt)))
    }

    /// Calls `body` with the raw JSON bytes of `payload`, without copying them.
    public func withPayloadBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try received.withBytes(of: received.envelope.payload, body)
    }

    /// The raw JSON of `payload`.
    public var payload: [UInt8] { withPayloadBytes { Array($0) } }
    /// The raw JSON of `payload` as text.
    public var payloadText: String { withPayloadBytes { String(decoding: $0, as: UTF8.self) } }
    /// The whole envelope as received.
    public var frame: [UInt8] { received.frame }

    /// Acknowledges the envelope, optionally with a response payload: the JSON text of one
    /// object (e.g. `{"text":"Done"}` for a slash command, `{"response_action":"errors",…}`
    /// for a view submission). The payload is checked here: an invalid one throws
    /// `.invalidAckPayload` and the event stays unanswered, so it can be acked again.
    public func ack(payload: String? = nil) async throws(SocketModeError) {
        try ack(payloadBytes: payload.map { Array($0.utf8) })
    }

    /// `ack(payload:)` for payload bytes, without suspending.
    public func ack(payloadBytes payload: [UInt8]?) throws(SocketModeError) {
        if let payload, !payload.isEmpty {
            guard ackMode != .onReceipt else { throw .ackedOnReceipt }
            try Self.validate(payload, of: received)
        }
        guard answer.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged else {
            throw .alreadyAnswered
        }
        if ackMode == .onReceipt { return }
        client.ack(received.token, payload: payload.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// Declines the envelope: no ack is sent, so Slack redelivers it (with a retry count),
    /// and that redelivery reaches the application again.
    public func nack() throws(SocketModeError) {
        guard ackMode != .onReceipt else { throw .ackedOnReceipt }
        guard answer.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged else {
            throw .alreadyAnswered
        }
        client.nack(received.token)
    }

    /// The application took the event out of the stream: the ack guard may answer it now.
    func markTaken() { client.taken(received.token) }

    /// Nacks an event the application never received (its stream had ended).
    func declineUndelivered() {
        guard ackMode != .onReceipt,
            answer.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged
        else { return }
        client.nack(received.token)
    }

    /// Encodes the ack into scratch space: the same checks the pool makes (one JSON object,
    /// the whole ack under 20 480 bytes), done on the caller's thread.
    private static func validate(_ payload: [UInt8], of received: ReceivedEnvelope) throws(SocketModeError) {
        let result: Result<Int, AckEncodingError> = received.withBytes(of: received.envelope.envelopeID) { id in
            payload.withUnsafeBytes { body in
                withUnsafeTemporaryAllocation(byteCount: AckEncoder.maxFrameSize, alignment: 1) { scratch in
                    Result { () throws(AckEncodingError) in
                        try AckEncoder.encode(envelopeID: id, payload: body, into: scratch, headroom: 0)
                    }
                }
            }
        }
        if case .failure(let error) = result { throw .invalidAckPayload(error) }
    }
}
