import CSockeye
import Glibc
import SockeyeCore
import SockeyeTransport

/// An event as the C host sees it: the fields it can read, copied once into one malloc'd
/// block the event owns (so views stay valid for its whole life, however the transport
/// stores frames), and the handle the host acks with.
final class ABIEvent: @unchecked Sendable {
    /// The fields, in `Field` order.
    enum Field: Int, CaseIterable {
        case type, envelopeID, payload, teamID, eventID, eventType, payloadType, retryReason
    }

    let client: ABIClient
    let token: DeliveryToken
    let kind: Int32
    let retryAttempt: Int64
    let acceptsResponsePayload: Bool
    /// Monotonic nanoseconds at receipt (for the ack latency).
    let receivedAt: UInt64
    /// One malloc'd block: the `sockeye_view`s of every field, then the bytes they point at.
    private let storage: UnsafeMutableRawPointer
    /// Bytes after the views: every field's characters, one after another.
    private let dataLength: Int
    /// 0 unanswered, 1 acked, 2 nacked; under `client.lock`.
    var answer: UInt8 = 0

    init(_ received: ReceivedEnvelope, client: ABIClient) {
        self.client = client
        let envelope = received.envelope
        token = received.token
        kind = envelope.kind.rawValue
        retryAttempt = envelope.retryAttempt ?? 0
        acceptsResponsePayload = envelope.acceptsResponsePayload ?? false
        // Timed here, as the service thread hands it over (the frame was read in the same batch).
        receivedAt = MonotonicClock.now()
        var total = 0
        for field in Field.allCases {
            let view = Self.byteView(field, of: envelope)
            if view.isPresent { total += view.length }
        }
        dataLength = total
        let header = Self.headerSize
        // malloc's alignment suits sockeye_view; +1 keeps present empty strings non-NULL.
        storage = malloc(header + total + 1)!
        let views = storage.bindMemory(to: sockeye_view.self, capacity: Field.allCases.count)
        var cursor = storage + header
        for field in Field.allCases {
            let view = Self.byteView(field, of: envelope)
            guard view.isPresent else {
                (views + field.rawValue).initialize(to: sockeye_view())
                continue
            }
            let start = cursor
            received.withBytes(of: view) { bytes in
                if bytes.count > 0 { start.copyMemory(from: bytes.baseAddress!, byteCount: min(bytes.count, view.length)) }
            }
            let flags = SOCKEYE_VIEW_PRESENT | (view.isEscaped ? SOCKEYE_VIEW_ESCAPED : 0)
            (views + field.rawValue).initialize(
                to: sockeye_view(ptr: start.assumingMemoryBound(to: CChar.self), len: view.length, flags: flags))
            cursor += view.length
        }
    }

    /// The block is freed where it was made (see `AppClient.freeOnServiceThread`).
    deinit { client.app.freeOnServiceThread(storage, byteCount: Self.headerSize + dataLength + 1) }

    private static let headerSize = Field.allCases.count * MemoryLayout<sockeye_view>.stride

    /// Every field as `sockeye_event_info` (its `struct_size` is the caller's to set).
    func info(handle: OpaquePointer) -> sockeye_event_info {
        var info = sockeye_event_info()
        info.event = handle
        info.kind = kind
        info.accepts_response_payload = acceptsResponsePayload ? 1 : 0
        info.retry_attempt = retryAttempt
        info.data = sockeye_view(
            ptr: (storage + Self.headerSize).assumingMemoryBound(to: CChar.self), len: dataLength,
            flags: SOCKEYE_VIEW_PRESENT)
        info.type = view(.type)
        info.envelope_id = view(.envelopeID)
        info.payload = view(.payload)
        info.team_id = view(.teamID)
        info.event_id = view(.eventID)
        info.event_type = view(.eventType)
        info.payload_type = view(.payloadType)
        info.retry_reason = view(.retryReason)
        return info
    }

    func view(_ field: Field) -> sockeye_view {
        storage.assumingMemoryBound(to: sockeye_view.self)[field.rawValue]
    }

    private static func byteView(_ field: Field, of envelope: Envelope) -> ByteView {
        switch field {
        case .type: envelope.type
        case .envelopeID: envelope.envelopeID
        case .payload: envelope.payload
        case .teamID: envelope.teamID
        case .eventID: envelope.eventID
        case .eventType: envelope.eventType
        case .payloadType: envelope.payloadType
        case .retryReason: envelope.retryReason
        }
    }

    /// The decoded envelope id (for validating ack payloads: the ack encoder needs it).
    func withEnvelopeID<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let id = view(.envelopeID)
        guard id.flags & SOCKEYE_VIEW_ESCAPED != 0 else {
            return body(UnsafeRawBufferPointer(start: id.ptr, count: id.len))
        }
        return withUnsafeTemporaryAllocation(byteCount: max(1, id.len), alignment: 1) { scratch in
            let length = JSONStringDecoder.decode(UnsafeRawBufferPointer(start: id.ptr, count: id.len), into: scratch) ?? 0
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length]))
        }
    }
}
