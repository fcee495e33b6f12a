import CSockeye

// sockeye_runtime_new / sockeye_runtime_free of include/sockeye.h.

@_cdecl("sockeye_runtime_new")
public func sockeyeRuntimeNew(_ out: UnsafeMutablePointer<OpaquePointer?>?) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    do {
        let runtime = try ABIRuntime()
        out.pointee = HandleTable.shared.insert(runtime, kind: .runtime)
        return SOCKEYE_OK
    } catch {
        return error.status
    }
}

@_cdecl("sockeye_runtime_free")
public func sockeyeRuntimeFree(_ handle: OpaquePointer?) -> sockeye_status {
    guard let runtime = HandleTable.shared.lookup(handle, kind: .runtime, as: ABIRuntime.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    // From a callback this would join the thread that is running it.
    guard !runtime.runtime.isOnServiceThread else { return SOCKEYE_E_WRONG_THREAD }
    guard HandleTable.shared.remove(handle, kind: .runtime, as: ABIRuntime.self) != nil else {
        return SOCKEYE_E_INVALID_HANDLE  // freed concurrently by another thread
    }
    runtime.shutDown()
    return SOCKEYE_OK
}
