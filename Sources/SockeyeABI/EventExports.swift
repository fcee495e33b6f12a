import CSockeye

// sockeye_event_* accessors, sockeye_ack, sockeye_nack, retain and release of
// include/sockeye.h. Every call resolves the handle first: a released event is a status.

private func event(_ handle: OpaquePointer?) -> ABIEvent? {
    HandleTable.shared.lookup(handle, kind: .event, as: ABIEvent.self)
}

@_cdecl("sockeye_event_retain")
public func sockeyeEventRetain(_ handle: OpaquePointer?) -> sockeye_status {
    HandleTable.shared.retain(handle, kind: .event) ? SOCKEYE_OK : SOCKEYE_E_INVALID_HANDLE
}

@_cdecl("sockeye_event_release")
public func sockeyeEventRelease(_ handle: OpaquePointer?) -> sockeye_status {
    switch HandleTable.shared.release(handle, kind: .event, as: ABIEvent.self) {
    case .invalid: return SOCKEYE_E_INVALID_HANDLE
    case .stillReferenced: return SOCKEYE_OK
    case .last(let event):
        event.client.released(event)
        return SOCKEYE_OK
    }
}

@_cdecl("sockeye_ack")
public func sockeyeAck(_ handle: OpaquePointer?, _ payload: UnsafePointer<CChar>?, _ length: Int) -> sockeye_status {
    guard let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    if let problem = ackPayloadProblem(payload, length) { return problem }
    return event.client.ack(event, payload: payload.map { UnsafeRawBufferPointer(start: $0, count: length) })
}

@_cdecl("sockeye_nack")
public func sockeyeNack(_ handle: OpaquePointer?) -> sockeye_status {
    guard let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    return event.client.nack(event)
}

@_cdecl("sockeye_event_kind")
public func sockeyeEventKind(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    out.pointee = event.kind
    return SOCKEYE_OK
}

@_cdecl("sockeye_event_retry_attempt")
public func sockeyeEventRetryAttempt(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int64>?) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    out.pointee = event.retryAttempt
    return SOCKEYE_OK
}

@_cdecl("sockeye_event_accepts_response_payload")
public func sockeyeEventAcceptsResponsePayload(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?)
    -> sockeye_status
{
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    out.pointee = event.acceptsResponsePayload ? 1 : 0
    return SOCKEYE_OK
}

private func field(_ handle: OpaquePointer?, _ field: ABIEvent.Field, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    out.pointee = event.view(field)
    return SOCKEYE_OK
}

@_cdecl("sockeye_event_type")
public func sockeyeEventType(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?) -> sockeye_status {
    field(handle, .type, out)
}

@_cdecl("sockeye_event_envelope_id")
public func sockeyeEventEnvelopeID(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .envelopeID, out) }

@_cdecl("sockeye_event_payload")
public func sockeyeEventPayload(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .payload, out) }

@_cdecl("sockeye_event_team_id")
public func sockeyeEventTeamID(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .teamID, out) }

@_cdecl("sockeye_event_event_id")
public func sockeyeEventEventID(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .eventID, out) }

@_cdecl("sockeye_event_event_type")
public func sockeyeEventEventType(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .eventType, out) }

@_cdecl("sockeye_event_payload_type")
public func sockeyeEventPayloadType(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .payloadType, out) }

@_cdecl("sockeye_event_retry_reason")
public func sockeyeEventRetryReason(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_view>?)
    -> sockeye_status
{ field(handle, .retryReason, out) }

@_cdecl("sockeye_event_info_get")
public func sockeyeEventInfoGet(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_event_info>?)
    -> sockeye_status
{
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    let size = UnsafeRawPointer(out).load(as: Int.self)
    guard size >= EventInfoLayout.minimumSize else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let handle, let event = event(handle) else { return SOCKEYE_E_INVALID_HANDLE }
    EventInfoLayout.write(event.info(handle: handle), to: UnsafeMutableRawPointer(out), size: size)
    return SOCKEYE_OK
}

/// How `sockeye_event_info` is written into the host's memory, whose size the host sets.
enum EventInfoLayout {
    /// SOCKEYE_EVENT_INFO_MIN_SIZE: up to `retry_reason`.
    static let minimumSize =
        MemoryLayout<sockeye_event_info>.offset(of: \.retry_reason)! + MemoryLayout<sockeye_view>.size
    static let eventOffset = MemoryLayout<sockeye_event_info>.offset(of: \.event)!

    /// Writes `size` bytes at `element`: the info with `struct_size = size`, and zeros past
    /// the end of the struct this library knows (a newer host's fields read as absent).
    static func write(_ info: sockeye_event_info, to element: UnsafeMutableRawPointer, size: Int) {
        var info = info
        info.struct_size = size
        withUnsafeBytes(of: &info) { source in
            let count = min(size, source.count)
            element.copyMemory(from: source.baseAddress!, byteCount: count)
            if size > count { (element + count).initializeMemory(as: UInt8.self, repeating: 0, count: size - count) }
        }
    }
}
