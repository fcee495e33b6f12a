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
    private let storage: UnsafeMutableRawPointer?
    private var views: [sockeye_view]
    /// 0 unanswered, 1 acked, 2 nacked; under `client.lock`.
    var answer: UInt8 = 0

    init(_ received: ReceivedEnvelope, client: ABIClient) {
        self.client = client
        let envelope = received.envelope
        token = received.token
        kind = envelope.kind.rawValue
        retryAttempt = envelope.retryAttempt ?? 0
        acceptsResponsePayload = envelope.acceptsResponsePayload ?? false
        receivedAt = received.receivedAt
        let fields: [ByteView] = Field.allCases.map { field in
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
        let total = fields.reduce(0) { $0 + ($1.isPresent ? $1.length : 0) }
        storage = total > 0 ? malloc(total) : nil
        var views: [sockeye_view] = []
        views.reserveCapacity(fields.count)
        var offset = 0
        for view in fields {
            guard view.isPresent else {
                views.append(sockeye_view())
                continue
            }
            let start = storage.map { $0 + offset }
            received.withBytes(of: view) { bytes in
                if let start, bytes.count > 0 { start.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            }
            let flags = SOCKEYE_VIEW_PRESENT | (view.isEscaped ? SOCKEYE_VIEW_ESCAPED : 0)
            // A present empty string still gets a non-NULL pointer, so "present" reads the same
            // through ptr and flags.
            let pointer = (start ?? UnsafeMutableRawPointer(mutating: ABIEvent.emptyByte))
            views.append(sockeye_view(ptr: pointer.assumingMemoryBound(to: CChar.self), len: view.length, flags: flags))
            offset += view.length
        }
        self.views = views
    }

    deinit { free(storage) }

    func view(_ field: Field) -> sockeye_view { views[field.rawValue] }

    /// The decoded envelope id (for validating ack payloads: the ack encoder needs it).
    func withEnvelopeID<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        let id = views[Field.envelopeID.rawValue]
        guard id.flags & SOCKEYE_VIEW_ESCAPED != 0 else {
            return body(UnsafeRawBufferPointer(start: id.ptr, count: id.len))
        }
        return withUnsafeTemporaryAllocation(byteCount: max(1, id.len), alignment: 1) { scratch in
            let length = JSONStringDecoder.decode(UnsafeRawBufferPointer(start: id.ptr, count: id.len), into: scratch) ?? 0
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length]))
        }
    }

    /// One NUL byte, never freed, for present empty strings.
    nonisolated(unsafe) private static let emptyByte: UnsafeRawPointer = {
        let byte = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)
        byte.storeBytes(of: 0, as: UInt8.self)
        return UnsafeRawPointer(byte)
    }()
}
