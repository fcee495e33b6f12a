import CLibWebSockets
import CSockeye
import SockeyeCore
import SockeyeTransport

// Version and feature exports of include/sockeye.h.

/// The version this library reports: Sockeye's (`SockeyeVersion`), which
/// scripts/check-version holds equal to the header's SOCKEYE_VERSION_* and the VERSION file.
enum ABIVersion {
    static var number: UInt32 {
        UInt32(SockeyeVersion.major) << 16 | UInt32(SockeyeVersion.minor) << 8 | UInt32(SockeyeVersion.patch)
    }
}

/// `SockeyeVersion.string` as a C string, made once and kept for the life of the process.
nonisolated(unsafe) private let versionString: UnsafeMutablePointer<CChar> = strdup(SockeyeVersion.string)!

@_cdecl("sockeye_version")
public func sockeyeVersion() -> UnsafePointer<CChar> {
    UnsafePointer(versionString)
}

@_cdecl("sockeye_version_number")
public func sockeyeVersionNumber() -> UInt32 { ABIVersion.number }

/// The TLS library's name, made once and kept for the life of the process.
nonisolated(unsafe) private let tlsLibrary: UnsafeMutablePointer<CChar> = strdup(TLSConfiguration.libraryVersion)!

@_cdecl("sockeye_version_info_get")
public func sockeyeVersionInfoGet(_ out: UnsafeMutablePointer<sockeye_version_info>?) -> sockeye_status {
    guard let out else { return SOCKEYE_E_INVALID_ARGUMENT }
    let size = UnsafeRawPointer(out).load(as: Int.self)
    let minimum = MemoryLayout<sockeye_version_info>.offset(of: \.version_number)! + MemoryLayout<UInt32>.size
    guard size >= minimum else { return SOCKEYE_E_INVALID_ARGUMENT }
    var info = sockeye_version_info()
    info.struct_size = size
    info.version = sockeyeVersion()
    info.version_number = ABIVersion.number
    info.features = SOCKEYE_FEATURE_TLS | SOCKEYE_FEATURE_PROXY | SOCKEYE_FEATURE_PROXY_AUTH | SOCKEYE_FEATURE_EVENTFD
        | SOCKEYE_FEATURE_DYNAMIC_POOL
    info.tls_library = UnsafePointer(tlsLibrary)
    info.event_loop = lws_get_library_version()
    withUnsafeBytes(of: &info) { source in
        UnsafeMutableRawPointer(out).copyMemory(from: source.baseAddress!, byteCount: min(size, source.count))
    }
    return SOCKEYE_OK
}

@_cdecl("sockeye_scan_error_name")
public func sockeyeScanErrorName(_ kind: Int32) -> UnsafePointer<CChar> {
    let name: StaticString = ScanError.Kind(rawValue: kind)?.staticName ?? (kind == 0 ? "ok" : "unknown")
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}
