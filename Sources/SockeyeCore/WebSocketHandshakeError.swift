/// Why the opening handshake failed (RFC 6455 §4.1–§4.2.2).
public enum WebSocketHandshakeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The request could not be built: a header name, value or the target holds a control
    /// character (CR and LF would inject headers), the target does not start with "/", the
    /// host is empty, or the key is not 16 bytes. The text says which.
    case invalidRequest(String)
    /// The answer's header passed `WebSocketHandshake.maxHeaderSize` bytes.
    case headerTooLarge(limit: Int)
    /// The first line is not `HTTP/1.x <3 digits> <reason>`.
    case malformedStatusLine
    /// A header line without a colon, or with an empty or invalid name.
    case malformedHeaderLine
    /// The server answered with another status than 101: a 4xx for a refused or expired
    /// ticket, 429 or 503 with `Retry-After` when it wants the client to wait.
    case unexpectedStatus(code: Int, reason: String, retryAfter: Duration?)
    /// No `Upgrade` header with the token `websocket`.
    case missingUpgrade
    /// No `Connection` header with the token `upgrade`.
    case missingConnectionUpgrade
    /// No `Sec-WebSocket-Accept` header.
    case missingAccept
    /// `Sec-WebSocket-Accept` is not base64(SHA-1(key + GUID)): the answer is not meant for
    /// this request (a cache or a broken proxy).
    case wrongAccept(String)
    /// The server chose an extension the client did not offer (it offers none).
    case unexpectedExtension(String)
    /// The server chose a subprotocol the client did not offer.
    case unexpectedSubprotocol(String)

    /// For logs.
    public var description: String {
        switch self {
        case .invalidRequest(let why): "invalid handshake request: \(why)"
        case .headerTooLarge(let limit): "handshake answer header over \(limit) bytes"
        case .malformedStatusLine: "malformed status line in the handshake answer"
        case .malformedHeaderLine: "malformed header line in the handshake answer"
        case .unexpectedStatus(let code, let reason, let retryAfter):
            "handshake answered \(code) \(reason)" + (retryAfter.map { " (Retry-After \($0))" } ?? "")
        case .missingUpgrade: "handshake answer without Upgrade: websocket"
        case .missingConnectionUpgrade: "handshake answer without Connection: upgrade"
        case .missingAccept: "handshake answer without Sec-WebSocket-Accept"
        case .wrongAccept(let value): "wrong Sec-WebSocket-Accept \(value)"
        case .unexpectedExtension(let value): "server chose an extension not offered: \(value)"
        case .unexpectedSubprotocol(let value): "server chose a subprotocol not offered: \(value)"
        }
    }
}
