import CLibWebSockets
import Foundation

/// Per-wsi state kept by the service thread.
final class Session {
    // HTTP
    var method = "GET"
    var path = ""
    var query = ""
    var queryFragments: [String] = []
    var authorization: String?
    var contentType: String?
    var body: [UInt8] = []
    /// Non-zero while a deferred admin response (`SimServer+Deferred`) is being prepared.
    var deferred: UInt64 = 0
    /// A deferred response ready to be written at the next writeable callback.
    var ready: WebAPIResponse?
    // WebSocket
    var app: Int?
    var debugReconnects = false
    var connection: ServerConnectionID?
    var rx: [UInt8] = []
    var rxOversize = false
    var cleanClose = false
    var flowStopped = false
    /// A close due while lws still held part of the last write (a truncated send): it waits
    /// for that part to go out, as a server's close follows what it already sent. (A drop
    /// fault does not wait: losing what was in flight is the fault.)
    var pendingEnding: SimCore.Ending?
}

/// The protocol callback, used as a C function pointer; it finds the server through the
/// context user pointer.
func simCallback(_ wsi: OpaquePointer?, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                 _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
    guard let wsi, let ctx = lws_get_context(wsi), let server = lws_context_user(ctx) else { return 0 }
    return Unmanaged<SimServer>.fromOpaque(server).takeUnretainedValue().handle(wsi, reason, input, len)
}

extension SimServer {
    func session(_ wsi: OpaquePointer) -> Session {
        if let s = sessions[wsi] { return s }
        let s = Session()
        sessions[wsi] = s
        return s
    }

    func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let n = Int(lws_hdr_total_length(wsi, token))
        guard n > 0 else { return nil }
        var buf = [CChar](repeating: 0, count: n + 1)
        guard lws_hdr_copy(wsi, &buf, Int32(n + 1), token) >= 0 else { return nil }
        return String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The query's arguments one by one (`name=value`, percent-decoded by lws, which
    /// splits only at unencoded `&`), at most 256.
    func queryFragments(_ wsi: OpaquePointer) -> [String] {
        var out: [String] = []
        var index: Int32 = 0
        while index < 256 {
            let n = Int(lws_hdr_fragment_length(wsi, WSI_TOKEN_HTTP_URI_ARGS, index))
            guard n > 0 else { break }
            var buf = [CChar](repeating: 0, count: n + 1)
            guard lws_hdr_copy_fragment(wsi, &buf, Int32(n + 1), WSI_TOKEN_HTTP_URI_ARGS, index) >= 0 else { break }
            out.append(String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            index += 1
        }
        return out
    }

    func urlArg(_ wsi: OpaquePointer, _ name: String) -> String? {
        var buf = [CChar](repeating: 0, count: 512)
        guard let p = lws_get_urlarg_by_name(wsi, name + "=", &buf, Int32(buf.count)) else { return nil }
        return p.withMemoryRebound(to: UInt8.self, capacity: 1) { String(decoding: UnsafeBufferPointer(start: $0, count: strlen(p)), as: UTF8.self) }
    }

    func handle(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ input: UnsafeMutableRawPointer?, _ len: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
            runCommands()

        case LWS_CALLBACK_RAW_RX_FILE:
            // The only raw file descriptor is the wake-up timerfd (SimServer+Timer).
            timerFired()

        case LWS_CALLBACK_HTTP:
            let s = session(wsi)
            s.path = input.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: len), as: UTF8.self) } ?? "/"
            s.method = lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI) > 0 ? "POST" : "GET"
            s.authorization = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION)
            s.contentType = header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE)
            s.query = header(wsi, WSI_TOKEN_HTTP_URI_ARGS) ?? ""
            s.queryFragments = queryFragments(wsi)
            s.body = []
            let length = Int(header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) ?? "0") ?? 0
            if s.method == "GET" || length == 0 { return respond(wsi, s) }

        case LWS_CALLBACK_HTTP_BODY:
            if let input, len > 0 {
                let s = session(wsi)
                guard s.body.count + len <= 16 << 20 else { return -1 }
                s.body.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len))
            }

        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            return respond(wsi, session(wsi))

        case LWS_CALLBACK_HTTP_WRITEABLE:
            if let s = sessions[wsi], let res = s.ready {
                s.ready = nil
                s.deferred = 0
                return write(wsi, res)
            }

        case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
            let s = session(wsi)
            let now = Self.monotonic()
            guard let ticket = urlArg(wsi, "ticket"), let key = urlArg(wsi, "app_id"),
                  let app = core.admit(ticket: ticket, appKey: key, now: now)
            else {
                if urlArg(wsi, "ticket") == nil { core.connectionsRefused += 1 }
                // Answer the upgrade with an HTTP error rather than a bare TCP close.
                _ = lws_return_http_status(wsi, UInt32(HTTP_STATUS_FORBIDDEN.rawValue), "invalid or expired ticket")
                return 1
            }
            s.app = app
            s.debugReconnects = urlArg(wsi, "debug_reconnects") == "true"

        case LWS_CALLBACK_ESTABLISHED:
            let s = session(wsi)
            guard let app = s.app else { return -1 }
            let id = core.opened(app: app, debugReconnects: s.debugReconnects, now: Self.monotonic())
            s.connection = id
            wsiByConnection[id] = wsi
            pump()

        case LWS_CALLBACK_RECEIVE:
            guard let s = sessions[wsi], let id = s.connection else { return 0 }
            let final = lws_is_final_fragment(wsi) != 0 && lws_remaining_packet_payload(wsi) == 0
            let limit = core.config.maxClientFrame
            if s.rxOversize || s.rx.count + len >= limit {
                // The whole message is over the limit: act once, swallow the rest.
                if !s.rxOversize { core.oversize(id); pump() }
                s.rxOversize = !final
                s.rx = []
                return 0
            }
            if lws_frame_is_binary(wsi) != 0 {
                if final { core.binary(id); s.rx = [] }
                return 0
            }
            let now = Self.monotonic()
            if s.rx.isEmpty, final {
                core.received(id, UnsafeRawBufferPointer(start: input, count: len), now: now)
            } else {
                if let input { s.rx.append(contentsOf: UnsafeRawBufferPointer(start: input, count: len)) }
                if final {
                    s.rx.withUnsafeBytes { core.received(id, $0, now: now) }
                    s.rx = []
                }
            }
            pump()

        case LWS_CALLBACK_RECEIVE_PONG:
            if let id = sessions[wsi]?.connection { core.pong(id) }

        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            sessions[wsi]?.cleanClose = true

        case LWS_CALLBACK_SERVER_WRITEABLE:
            guard let s = sessions[wsi], let id = s.connection else { return 0 }
            if core.isStalled(id), !s.flowStopped {
                s.flowStopped = true
                lws_rx_flow_control(wsi, 0)
            }
            if lws_send_pipe_choked(wsi) != 0 { lws_callback_on_writable(wsi); return 0 }
            let ending: SimCore.Ending?
            if let pending = s.pendingEnding {
                ending = pending
            } else {
                let (bytes, due) = core.takeOutput(id)
                ending = due
                if !bytes.isEmpty {
                    let n = bytes.withUnsafeBytes { b in
                        lws_write(wsi, UnsafeMutablePointer(mutating: b.bindMemory(to: UInt8.self).baseAddress!), b.count, LWS_WRITE_HTTP) // LWS_WRITE_RAW: already-framed bytes
                    }
                    if n < 0 { return -1 }
                }
            }
            if case .close? = ending, lws_partial_buffered(wsi) != 0 {
                s.pendingEnding = ending
                lws_callback_on_writable(wsi)
                return 0
            }
            switch ending {
            case .none:
                break
            case .close(let code, let text)?:
                var t = Array(text.utf8)
                lws_close_reason(wsi, lws_close_status(rawValue: UInt32(code)), &t, t.count)
                s.cleanClose = true
                return -1
            case .drop(let reset)?:
                let fd = lws_get_socket_fd(wsi)
                if reset {
                    var l = linger(l_onoff: 1, l_linger: 0)
                    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
                    shutdown(fd, Int32(SHUT_RD))
                } else {
                    shutdown(fd, Int32(SHUT_RDWR))
                }
                return -1
            }

        case LWS_CALLBACK_CLOSED:
            if let s = sessions[wsi], let id = s.connection {
                wsiByConnection.removeValue(forKey: id)
                core.closed(id, clean: s.cleanClose, now: Self.monotonic())
                s.connection = nil
            }

        case LWS_CALLBACK_WSI_DESTROY:
            if let s = sessions.removeValue(forKey: wsi), let id = s.connection {
                wsiByConnection.removeValue(forKey: id)
                core.closed(id, clean: s.cleanClose, now: Self.monotonic())
            }

        default:
            break
        }
        return 0
    }

    /// Routes an HTTP request and writes the whole response, or leaves it to a deferred
    /// handler (`SimServer+Deferred`) that writes it later.
    func respond(_ wsi: OpaquePointer, _ s: Session) -> Int32 {
        let req = HTTPRequest(method: s.method, path: s.path, query: s.query, queryFragments: s.queryFragments,
                              authorization: s.authorization, contentType: s.contentType, body: s.body)
        s.body = []
        if let immediate = deferIfNeeded(req, wsi, s) { return write(wsi, immediate) }
        if s.deferred != 0 { return 0 }
        return write(wsi, route(req))
    }

    /// Writes a whole response and completes the HTTP transaction.
    func write(_ wsi: OpaquePointer, _ res: WebAPIResponse) -> Int32 {
        var buf = [UInt8](repeating: 0, count: Int(sockeye_lws_pre()) + 4096)
        let ok: Bool = buf.withUnsafeMutableBufferPointer { b in
            let start = b.baseAddress! + Int(sockeye_lws_pre())
            var p: UnsafeMutablePointer<UInt8>? = start
            let end = b.baseAddress! + b.count
            if lws_add_http_common_headers(wsi, UInt32(res.status), res.contentType, lws_filepos_t(res.body.count), &p, end) != 0 { return false }
            for (name, value) in res.headers {
                let n = Array((name.lowercased() + ":").utf8) + [0]
                let v = Array(value.utf8)
                if lws_add_http_header_by_name(wsi, n, v, Int32(v.count), &p, end) != 0 { return false }
            }
            return lws_finalize_write_http_header(wsi, start, &p, end) == 0
        }
        guard ok else { return -1 }
        if !res.body.isEmpty {
            var body = [UInt8](repeating: 0, count: Int(sockeye_lws_pre())) + res.body
            let n = body.withUnsafeMutableBufferPointer { b in
                lws_write(wsi, b.baseAddress! + Int(sockeye_lws_pre()), res.body.count, LWS_WRITE_HTTP_FINAL)
            }
            if n < 0 { return -1 }
        }
        pump()
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }
}
