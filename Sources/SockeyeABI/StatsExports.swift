import CSockeye

// sockeye_client_stats and sockeye_state_name of include/sockeye.h.

/// SOCKEYE_STATS_MIN_SIZE: up to `delivered`.
private let minimumStatsSize = MemoryLayout<sockeye_stats>.offset(of: \.delivered)! + MemoryLayout<UInt64>.size

@_cdecl("sockeye_client_stats")
public func sockeyeClientStats(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<sockeye_stats>?) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    let size = UnsafeRawPointer(out).load(as: Int.self)
    guard size >= minimumStatsSize else { return SOCKEYE_E_INVALID_ARGUMENT }
    guard let client = HandleTable.shared.lookup(handle, kind: .client, as: ABIClient.self) else {
        return SOCKEYE_E_INVALID_HANDLE
    }
    var stats = sockeye_stats()
    client.stats(into: &stats)
    stats.struct_size = size
    withUnsafeBytes(of: &stats) { source in
        UnsafeMutableRawPointer(out).copyMemory(from: source.baseAddress!, byteCount: min(size, source.count))
    }
    return SOCKEYE_OK
}

@_cdecl("sockeye_state_name")
public func sockeyeStateName(_ state: Int32) -> UnsafePointer<CChar> {
    let name: StaticString =
        switch state {
        case Int32(SOCKEYE_STATE_IDLE.rawValue): "idle"
        case Int32(SOCKEYE_STATE_CONNECTING.rawValue): "connecting"
        case Int32(SOCKEYE_STATE_RUNNING.rawValue): "running"
        case Int32(SOCKEYE_STATE_STOPPING.rawValue): "stopping"
        case Int32(SOCKEYE_STATE_STOPPED.rawValue): "stopped"
        case Int32(SOCKEYE_STATE_FAILED.rawValue): "failed"
        default: "unknown"
        }
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}
