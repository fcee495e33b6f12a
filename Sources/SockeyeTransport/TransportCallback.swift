import CLibWebSockets
import SockeyeCore

/// The one lws protocol callback of the transport. It captures nothing (it is a C function
/// pointer): the runtime comes from the context's user pointer, the connection from the
/// wsi's opaque user data, which a `Conduit` sets to itself (retained while lws holds it).
func transportCallback(
    _ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
    _ input: UnsafeMutableRawPointer?, _ length: Int
) -> Int32 {
    guard let wsi else { return 0 }
    switch reason {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        guard let context = lws_get_context(wsi), let runtime = lws_context_user(context) else { return 0 }
        Unmanaged<TransportRuntime>.fromOpaque(runtime).takeUnretainedValue().runCommands()
        return 0
    case LWS_CALLBACK_RAW_RX_FILE:
        // The only raw file is the runtime's wake-up timer (`WakeTimer`).
        guard let context = lws_get_context(wsi), let runtime = lws_context_user(context) else { return 0 }
        Unmanaged<TransportRuntime>.fromOpaque(runtime).takeUnretainedValue().wakeTimerExpired()
        return 0
    case LWS_CALLBACK_RAW_CONNECTED:
        return Conduit.of(wsi)?.tcpConnected() ?? 0
    case LWS_CALLBACK_RAW_RX:
        guard let input, length > 0, let conduit = Conduit.of(wsi) else { return 0 }
        let runtime = lws_get_context(wsi).flatMap { lws_context_user($0) }
            .map { Unmanaged<TransportRuntime>.fromOpaque($0).takeUnretainedValue() }
        runtime?.receivingBytes()
        let result = conduit.received(UnsafeRawBufferPointer(start: input, count: length))
        runtime?.receivedBytesHandled()
        return result
    case LWS_CALLBACK_RAW_WRITEABLE:
        return Conduit.of(wsi)?.writeable() ?? 0
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        let text = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "connection failed"
        Conduit.of(wsi)?.connectionError(text)
        return 0
    case LWS_CALLBACK_RAW_CLOSE:
        Conduit.of(wsi)?.tcpClosed()
        return 0
    default:
        return 0
    }
}
