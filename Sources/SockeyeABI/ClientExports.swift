import CSockeye
import SockeyeTransport

// sockeye_client_new / _stop / _free / _next_event / _event_fd of include/sockeye.h.

@_cdecl("sockeye_client_new")
public func sockeyeClientNew(
    _ runtimeHandle: OpaquePointer?, _ options: UnsafePointer<sockeye_client_options>?,
    _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sockeye_status {
    guard let options, let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let runtime = HandleTable.shared.lookup(runtimeHandle, kind: .runtime, as: ABIRuntime.self),
        !runtime.hasShutDown
    else { return SOCKEYE_E_INVALID_HANDLE }
    let settings: ClientSettings
    do {
        settings = try ClientSettings(reading: options)
    } catch {
        reportEarly(error, options: options)
        return error.status
    }
    do {
        let client = try ABIClient(owner: runtime, settings: settings)
        try client.attach(environment: ProcessEnvironment.snapshot())
        out.pointee = client.handle
        client.app.start()
        return SOCKEYE_OK
    } catch {
        reportEarly(error, options: options)
        return error.status
    }
}

/// A client that could not be made still tells the host's log why (never the token).
private func reportEarly(_ failure: ABIFailure, options: UnsafePointer<sockeye_client_options>) {
    let size = UnsafeRawPointer(options).load(as: Int.self)
    guard size >= MemoryLayout<sockeye_client_options>.offset(of: \.log_user)! + MemoryLayout<UnsafeRawPointer?>.size,
        let log = options.pointee.log
    else { return }
    var message = "sockeye_client_new: \(String(cString: sockeyeStrerror(failure.status))): \(failure.message)"
    if let token = options.pointee.app_token, let text = String(validatingCString: token) {
        message = TokenRedactor(token: text).redact(message)
    }
    message.withCString { log(options.pointee.log_user, SOCKEYE_LOG_ERROR, $0) }
}

@_cdecl("sockeye_client_stop")
public func sockeyeClientStop(_ handle: OpaquePointer?, _ drain: Int32) -> sockeye_status {
    guard let client = HandleTable.shared.lookup(handle, kind: .client, as: ABIClient.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    client.stop(drain: drain != 0)
    return SOCKEYE_OK
}

@_cdecl("sockeye_client_free")
public func sockeyeClientFree(_ handle: OpaquePointer?) -> sockeye_status {
    guard let client = HandleTable.shared.remove(handle, kind: .client, as: ABIClient.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    client.free()
    return SOCKEYE_OK
}

@_cdecl("sockeye_client_next_event")
public func sockeyeClientNextEvent(
    _ handle: OpaquePointer?, _ timeoutMilliseconds: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?
) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    out.pointee = nil
    guard let client = HandleTable.shared.lookup(handle, kind: .client, as: ABIClient.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    guard let queue = client.queue else { return SOCKEYE_E_WRONG_MODE }
    switch queue.take(timeoutMilliseconds: timeoutMilliseconds) {
    case .event(let event):
        // Taken by the host: from now on the ack guard may answer it.
        if let taken = HandleTable.shared.lookup(event, kind: .event, as: ABIEvent.self) { client.app.taken(taken.token) }
        out.pointee = event
        return SOCKEYE_OK
    case .timeout: return SOCKEYE_E_TIMEOUT
    case .ended(.stopped): return SOCKEYE_E_STOPPED
    case .ended(.failed): return SOCKEYE_E_FAILED
    }
}

@_cdecl("sockeye_client_next_events")
public func sockeyeClientNextEvents(
    _ handle: OpaquePointer?, _ timeoutMilliseconds: Int32, _ out: UnsafeMutablePointer<sockeye_event_info>?,
    _ capacity: Int, _ outCount: UnsafeMutablePointer<Int>?
) -> sockeye_status {
    guard let outCount else { return SOCKEYE_E_INVALID_ARGUMENT }
    outCount.pointee = 0
    guard let out, capacity > 0 else { return SOCKEYE_E_INVALID_ARGUMENT }
    let stride = UnsafeRawPointer(out).load(as: Int.self)
    guard stride >= EventInfoLayout.minimumSize, stride % 8 == 0, capacity <= Int.max / stride else {
        return SOCKEYE_E_INVALID_ARGUMENT
    }
    guard let client = HandleTable.shared.lookup(handle, kind: .client, as: ABIClient.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    guard let queue = client.queue else { return SOCKEYE_E_WRONG_MODE }
    let elements = UnsafeMutableRawPointer(out)
    var count = 0
    // Under the queue's lock only the handles are stored; the fields are filled after it.
    let outcome = queue.take(upTo: capacity, timeoutMilliseconds: timeoutMilliseconds) { event in
        (elements + count * stride).storeBytes(of: event, toByteOffset: EventInfoLayout.eventOffset, as: OpaquePointer.self)
        count += 1
    }
    switch outcome {
    case nil: break
    case .timeout: return SOCKEYE_E_TIMEOUT
    case .ended(.stopped): return SOCKEYE_E_STOPPED
    case .ended(.failed): return SOCKEYE_E_FAILED
    case .event: preconditionFailure("take(upTo:) hands events to its body")
    }
    for index in 0..<count {
        let element = elements + index * stride
        let event = element.load(fromByteOffset: EventInfoLayout.eventOffset, as: OpaquePointer.self)
        var info = sockeye_event_info()
        info.event = event
        // The host owns a reference, so the handle is live; taken by the host from now on.
        if let taken = HandleTable.shared.lookup(event, kind: .event, as: ABIEvent.self) {
            client.app.taken(taken.token)
            info = taken.info(handle: event)
        }
        EventInfoLayout.write(info, to: element, size: stride)
    }
    outCount.pointee = count
    return SOCKEYE_OK
}

@_cdecl("sockeye_client_event_fd")
public func sockeyeClientEventFD(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let client = HandleTable.shared.lookup(handle, kind: .client, as: ABIClient.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    guard let queue = client.queue else { return SOCKEYE_E_WRONG_MODE }
    out.pointee = queue.descriptor
    return SOCKEYE_OK
}
