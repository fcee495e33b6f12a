import CSockeye
import SockeyeCore

// Acknowledgement encoding export of include/sockeye.h.

@_cdecl("sockeye_ack_encode")
public func sockeyeAckEncode(
    _ buf: UnsafeMutableRawPointer?, _ bufSize: Int, _ headroom: Int,
    _ envelopeID: UnsafePointer<CChar>?, _ envelopeIDLength: Int,
    _ payload: UnsafePointer<CChar>?, _ payloadLength: Int,
    _ outLength: UnsafeMutablePointer<Int>?
) -> sockeye_status {
    guard let buf, let envelopeID, let outLength, bufSize >= 0, headroom >= 0, envelopeIDLength >= 0,
        payloadLength >= 0
    else { return SOCKEYE_E_INVALID_ARGUMENT }
    let id = UnsafeRawBufferPointer(start: envelopeID, count: envelopeIDLength)
    let body = payload.map { UnsafeRawBufferPointer(start: $0, count: payloadLength) }
    do {
        outLength.pointee = try AckEncoder.encode(
            envelopeID: id, payload: body, into: UnsafeMutableRawBufferPointer(start: buf, count: bufSize),
            headroom: headroom)
        return SOCKEYE_OK
    } catch {
        switch error {
        case .tooLarge(let length):
            outLength.pointee = length
            return SOCKEYE_E_ACK_TOO_LARGE
        case .bufferTooSmall(let required):
            outLength.pointee = required
            return SOCKEYE_E_BUFFER_TOO_SMALL
        case .invalidEnvelopeID:
            return SOCKEYE_E_INVALID_ENVELOPE_ID
        case .invalidPayload:
            return SOCKEYE_E_INVALID_PAYLOAD
        }
    }
}

/// Checks the payload (pointer, length) pair of `sockeye_ack` as the other exports check
/// theirs, before a byte is read: a `size_t` past `Int.max` reaches Swift as a negative
/// length and would trap in the buffer's initialiser, so it is `SOCKEYE_E_INVALID_ARGUMENT`,
/// as is a length without a payload; a payload as long as the largest ack frame or longer
/// cannot fit in one and is `SOCKEYE_E_ACK_TOO_LARGE` without being read (a wrong, huge
/// length is never walked). `nil` when the pair may be used.
func ackPayloadProblem(_ payload: UnsafePointer<CChar>?, _ length: Int) -> sockeye_status? {
    guard length >= 0 else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard payload != nil || length == 0 else { return SOCKEYE_E_INVALID_ARGUMENT }
    if payload != nil && length >= AckEncoder.maxFrameSize { return SOCKEYE_E_ACK_TOO_LARGE }
    return nil
}
