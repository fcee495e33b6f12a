import CSockeye
import SockeyeCore

// Version and error-string exports of include/sockeye.h.

/// Static C strings live for the whole process; `StaticString` storage is never freed.
private let versionString: StaticString = "0.1.0"

@_cdecl("sockeye_version")
public func sockeyeVersion() -> UnsafePointer<CChar> {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("sockeye_version_number")
public func sockeyeVersionNumber() -> UInt32 {
    UInt32(SockeyeVersion.major << 16 | SockeyeVersion.minor << 8 | SockeyeVersion.patch)
}

@_cdecl("sockeye_strerror")
public func sockeyeStrerror(_ status: sockeye_status) -> UnsafePointer<CChar> {
    let text: StaticString =
        switch status {
        case SOCKEYE_OK: "success"
        case SOCKEYE_E_INVALID_ARGUMENT: "invalid argument"
        case SOCKEYE_E_MALFORMED: "frame is not valid JSON"
        case SOCKEYE_E_LIMIT: "frame exceeds a size or nesting limit"
        case SOCKEYE_E_NOT_ENVELOPE: "frame is not a Socket Mode message"
        case SOCKEYE_E_ACK_TOO_LARGE: "acknowledgement would exceed Slack's 20480-byte frame limit"
        case SOCKEYE_E_BUFFER_TOO_SMALL: "output buffer too small"
        case SOCKEYE_E_INVALID_ENVELOPE_ID: "envelope id is empty or not UTF-8"
        case SOCKEYE_E_INVALID_PAYLOAD: "response payload is not one valid JSON object"
        default: "unknown status"
        }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

@_cdecl("sockeye_scan_error_name")
public func sockeyeScanErrorName(_ kind: Int32) -> UnsafePointer<CChar> {
    let name: StaticString = ScanError.Kind(rawValue: kind)?.staticName ?? (kind == 0 ? "ok" : "unknown")
    return UnsafeRawPointer(name.utf8Start).assumingMemoryBound(to: CChar.self)
}
