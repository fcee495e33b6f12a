import CSockeye

// sockeye_strerror of include/sockeye.h: a name for every status.

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
        case SOCKEYE_E_INVALID_HANDLE: "not a live handle (freed, released, or of another kind)"
        case SOCKEYE_E_ALREADY_ANSWERED: "event already acked or nacked"
        case SOCKEYE_E_TIMEOUT: "timed out waiting for an event"
        case SOCKEYE_E_STOPPED: "client stopped"
        case SOCKEYE_E_WRONG_MODE: "not available in this client's delivery mode"
        case SOCKEYE_E_INVALID_TOKEN: "not an app-level token (Socket Mode needs xapp- with connections:write)"
        case SOCKEYE_E_INVALID_URL: "invalid API or proxy URL"
        case SOCKEYE_E_INVALID_OPTION: "invalid option"
        case SOCKEYE_E_SYSTEM: "the operating system refused a resource"
        case SOCKEYE_E_WRONG_THREAD: "not allowed on the runtime's service thread"
        case SOCKEYE_E_FAILED: "client gave up (fatal token error or link_disabled)"
        default: "unknown status"
        }
    return UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}
