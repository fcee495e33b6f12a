import CSockeye
import SockeyeCore

// Frame scanning exports of include/sockeye.h.

@_cdecl("sockeye_envelope_parse")
public func sockeyeEnvelopeParse(
    _ buf: UnsafeRawPointer?, _ len: Int, _ out: UnsafeMutablePointer<sockeye_envelope>?
) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    let callerSize = out.pointer(to: \.struct_size)!.pointee
    guard callerSize >= minimumEnvelopeSize, buf != nil || len == 0, len >= 0 else {
        return SOCKEYE_E_INVALID_ARGUMENT
    }
    var result = sockeye_envelope()
    result.struct_size = callerSize
    let status: sockeye_status
    let buffer = UnsafeRawBufferPointer(start: len == 0 ? nil : buf, count: len)
    do {
        let envelope = try EnvelopeScanner.scan(buffer)
        fill(&result, from: envelope, base: buf)
        status = SOCKEYE_OK
    } catch {
        result.error_kind = error.kind.rawValue
        result.error_offset = error.offset
        status =
            error.kind.isSyntax ? SOCKEYE_E_MALFORMED : error.kind.isLimit ? SOCKEYE_E_LIMIT : SOCKEYE_E_NOT_ENVELOPE
    }
    copyPrefix(of: &result, to: out, size: callerSize)
    return status
}

@_cdecl("sockeye_view_decode")
public func sockeyeViewDecode(
    _ view: UnsafePointer<sockeye_view>?, _ dst: UnsafeMutablePointer<CChar>?, _ dstSize: Int,
    _ outLength: UnsafeMutablePointer<Int>?
) -> sockeye_status {
    guard let view, let outLength, view.pointee.flags & SOCKEYE_VIEW_PRESENT != 0,
        view.pointee.ptr != nil || view.pointee.len == 0, dst != nil || dstSize == 0, dstSize >= 0
    else { return SOCKEYE_E_INVALID_ARGUMENT }
    let raw = UnsafeRawBufferPointer(start: view.pointee.ptr, count: view.pointee.len)
    let output = UnsafeMutableRawBufferPointer(start: dstSize == 0 ? nil : dst, count: dstSize)
    guard let length = JSONStringDecoder.decode(raw, into: output) else {
        outLength.pointee = view.pointee.len
        return SOCKEYE_E_BUFFER_TOO_SMALL
    }
    outLength.pointee = length
    return SOCKEYE_OK
}

/// Up to and including `error_offset`, as SOCKEYE_ENVELOPE_MIN_SIZE says.
private let minimumEnvelopeSize = MemoryLayout<sockeye_envelope>.offset(of: \.error_offset)! + MemoryLayout<Int>.size

/// Writes the first `size` bytes of `envelope` (all of it when `size` is larger).
private func copyPrefix(of envelope: inout sockeye_envelope, to out: UnsafeMutablePointer<sockeye_envelope>, size: Int) {
    withUnsafeBytes(of: &envelope) { source in
        UnsafeMutableRawPointer(out).copyMemory(
            from: source.baseAddress!, byteCount: min(size, MemoryLayout<sockeye_envelope>.size))
    }
}

private func fill(_ out: inout sockeye_envelope, from envelope: Envelope, base: UnsafeRawPointer?) {
    out.kind = envelope.kind.rawValue
    out.disconnect_reason = envelope.disconnectReason.rawValue
    var flags: UInt32 = 0
    if envelope.needsAck { flags |= SOCKEYE_ENVELOPE_NEEDS_ACK }
    if let accepts = envelope.acceptsResponsePayload {
        flags |= SOCKEYE_ENVELOPE_HAS_ACCEPTS_RESPONSE
        if accepts { flags |= SOCKEYE_ENVELOPE_ACCEPTS_RESPONSE }
    }
    if let value = envelope.retryAttempt {
        flags |= SOCKEYE_ENVELOPE_HAS_RETRY_ATTEMPT
        out.retry_attempt = value
    }
    if let value = envelope.numConnections {
        flags |= SOCKEYE_ENVELOPE_HAS_NUM_CONNECTIONS
        out.num_connections = value
    }
    if let value = envelope.buildNumber {
        flags |= SOCKEYE_ENVELOPE_HAS_BUILD_NUMBER
        out.build_number = value
    }
    if let value = envelope.approximateConnectionTime {
        flags |= SOCKEYE_ENVELOPE_HAS_CONNECTION_TIME
        out.approximate_connection_time = value
    }
    if envelope.flags.contains(.duplicateKey) { flags |= SOCKEYE_ENVELOPE_DUPLICATE_KEY }
    if envelope.flags.contains(.fieldTypeMismatch) { flags |= SOCKEYE_ENVELOPE_FIELD_TYPE_MISMATCH }
    out.flags = flags
    out.type = cView(envelope.type, base)
    out.envelope_id = cView(envelope.envelopeID, base)
    out.payload = cView(envelope.payload, base)
    out.retry_reason = cView(envelope.retryReason, base)
    out.event_id = cView(envelope.eventID, base)
    out.team_id = cView(envelope.teamID, base)
    out.payload_type = cView(envelope.payloadType, base)
    out.event_type = cView(envelope.eventType, base)
    out.reason = cView(envelope.reason, base)
    out.app_id = cView(envelope.appID, base)
    out.debug_host = cView(envelope.debugHost, base)
}

private func cView(_ view: ByteView, _ base: UnsafeRawPointer?) -> sockeye_view {
    guard view.isPresent, let base else { return sockeye_view() }
    let flags = SOCKEYE_VIEW_PRESENT | (view.isEscaped ? SOCKEYE_VIEW_ESCAPED : 0)
    return sockeye_view(
        ptr: (base + view.offset).assumingMemoryBound(to: CChar.self), len: view.length, flags: flags)
}
