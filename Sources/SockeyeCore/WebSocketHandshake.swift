/// The client side of the WebSocket opening handshake (RFC 6455 §4.1).
///
/// Sans-IO: `request` is the upgrade request to write; `receive` is fed the server's bytes
/// as they arrive and says, once the answer's header is complete and valid, how many of the
/// bytes of that call were header. The rest are already WebSocket frames for the decoder.
///
/// The client offers no extension; a subprotocol is offered only when `extraHeaders`
/// carries a `Sec-WebSocket-Protocol` header.
public struct WebSocketHandshake: Sendable {
    /// The largest answer header accepted, status line and blank line included.
    public static let maxHeaderSize = 16 * 1024

    /// RFC 6455 §1.3: appended to the key before hashing.
    static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// The upgrade request, bytes ready to write; empty when `requestError` is set.
    public let request: [UInt8]

    /// Why the request could not be built (a control character in a header, a key that is
    /// not 16 bytes…); nil normally. When set, `request` is empty and `receive` throws it.
    public let requestError: WebSocketHandshakeError?

    /// The `Sec-WebSocket-Accept` value a genuine answer carries.
    public let expectedAccept: String

    /// The subprotocols offered (lowercased), from a `Sec-WebSocket-Protocol` extra header.
    private let offeredSubprotocols: [String]

    private enum State: Sendable {
        case reading
        case complete
        case failed(WebSocketHandshakeError)
    }

    private var state = State.reading
    /// The answer's header bytes so far.
    private var header: [UInt8] = []
    /// Bytes in the current header line, not counting CR; a LF ending an empty line ends
    /// the header (CRLF CRLF, or bare LF LF, which RFC 9112 §2.2 lets recipients accept).
    private var lineLength = 0

    /// - Parameters:
    ///   - hostHeader: the Host header's value ("host", or "host:port" for a port that is
    ///     not the scheme's default).
    ///   - target: the request target, path plus query ("/link/?ticket=…"), "/" at least.
    ///   - key: 16 random bytes (RFC 6455 §4.1 wants them freshly chosen per connection).
    ///   - extraHeaders: (name, value) pairs appended to the request, e.g. User-Agent.
    public init(hostHeader: String, target: String, key: [UInt8], extraHeaders: [(String, String)] = []) {
        let encodedKey = Base64.encode(key)
        expectedAccept = Base64.encode(WebSocketSHA1.digest(Array((encodedKey + Self.guid).utf8)))
        var offered: [String] = []
        for (name, value) in extraHeaders where name.lowercased() == "sec-websocket-protocol" {
            offered += Self.tokens(value)
        }
        offeredSubprotocols = offered
        let problem = Self.requestProblem(hostHeader: hostHeader, target: target, key: key, extraHeaders: extraHeaders)
        requestError = problem.map { .invalidRequest($0) }
        guard problem == nil else {
            request = []
            return
        }
        var text = "GET \(target) HTTP/1.1\r\nHost: \(hostHeader)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(encodedKey)\r\nSec-WebSocket-Version: 13\r\n"
        for (name, value) in extraHeaders { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        request = Array(text.utf8)
    }

    /// Whether the answer has been read and accepted.
    public var isComplete: Bool {
        if case .complete = state { return true }
        return false
    }

    /// Feeds bytes of the server's answer.
    ///
    /// Returns nil while the header is incomplete. When it is complete and valid, returns
    /// how many of the bytes passed IN THIS CALL belonged to the header; the rest are
    /// WebSocket frames and go to the decoder. After that, further calls return 0 (no byte
    /// is header). Throws when the answer is refused; every later call throws the same.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(WebSocketHandshakeError) -> Int? {
        switch state {
        case .failed(let error): throw error
        case .complete: return 0
        case .reading: break
        }
        if let requestError {
            state = .failed(requestError)
            throw requestError
        }
        var end: Int? = nil
        for (index, byte) in bytes.enumerated() {
            if byte == 0x0A {
                if lineLength == 0 {
                    end = index + 1
                    break
                }
                lineLength = 0
            } else if byte != 0x0D {
                lineLength += 1
            }
        }
        let used = end ?? bytes.count
        guard header.count + used <= Self.maxHeaderSize else {
            return try fail(.headerTooLarge(limit: Self.maxHeaderSize))
        }
        header.append(contentsOf: bytes[..<used])
        guard end != nil else { return nil }
        do throws(WebSocketHandshakeError) {
            try checkAnswer()
        } catch {
            return try fail(error)
        }
        state = .complete
        header = []
        return used
    }

    private mutating func fail(_ error: WebSocketHandshakeError) throws(WebSocketHandshakeError) -> Int? {
        state = .failed(error)
        header = []
        throw error
    }

    /// Checks the complete header held in `header`.
    private func checkAnswer() throws(WebSocketHandshakeError) {
        var lines = header.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            String(decoding: line.last == 0x0D ? line.dropLast() : line, as: UTF8.self)
        }
        // The header ends with an empty line, which split turns into trailing empty strings.
        while lines.last == "" { lines.removeLast() }
        guard let statusLine = lines.first else { throw .malformedStatusLine }
        let (code, reason) = try Self.parseStatusLine(statusLine)

        var fields: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw .malformedHeaderLine }
            let name = String(line[..<colon])
            guard !name.isEmpty, name.utf8.allSatisfy(Self.isTokenByte) else { throw .malformedHeaderLine }
            fields.append((name.lowercased(), Self.trimmed(line[line.index(after: colon)...])))
        }
        func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

        guard code == 101 else {
            let retryAfter = values("retry-after").first.flatMap { UInt32($0) }.map { Duration.seconds(Int64($0)) }
            throw .unexpectedStatus(code: code, reason: reason, retryAfter: retryAfter)
        }
        guard values("upgrade").flatMap(Self.tokens).contains("websocket") else { throw .missingUpgrade }
        guard values("connection").flatMap(Self.tokens).contains("upgrade") else { throw .missingConnectionUpgrade }
        let accepts = values("sec-websocket-accept")
        guard !accepts.isEmpty else { throw .missingAccept }
        guard accepts == [expectedAccept] else { throw .wrongAccept(accepts.joined(separator: ", ")) }
        let extensions = values("sec-websocket-extensions").filter { !$0.isEmpty }
        guard extensions.isEmpty else { throw .unexpectedExtension(extensions.joined(separator: ", ")) }
        let protocols = values("sec-websocket-protocol")
        if !protocols.isEmpty {
            // The server picks exactly one of the offered subprotocols, or none.
            let chosen = protocols.flatMap(Self.tokens)
            guard chosen.count == 1, offeredSubprotocols.contains(chosen[0]) else {
                throw .unexpectedSubprotocol(protocols.joined(separator: ", "))
            }
        }
    }

    /// Reads `HTTP/1.x SP 3DIGIT SP reason`; a missing reason is accepted.
    private static func parseStatusLine(_ line: String) throws(WebSocketHandshakeError) -> (Int, String) {
        let bytes = Array(line.utf8)
        guard bytes.count >= 12, bytes.starts(with: Array("HTTP/1.".utf8)), isDigit(bytes[7]), bytes[8] == 0x20,
            isDigit(bytes[9]), isDigit(bytes[10]), isDigit(bytes[11]), bytes.count == 12 || bytes[12] == 0x20
        else { throw .malformedStatusLine }
        let code = Int(bytes[9] - 0x30) * 100 + Int(bytes[10] - 0x30) * 10 + Int(bytes[11] - 0x30)
        let reason = bytes.count > 13 ? String(decoding: bytes[13...], as: UTF8.self) : ""
        return (code, reason)
    }

    /// The lowercased items of a comma-separated header value.
    private static func tokens(_ value: String) -> [String] {
        value.split(separator: ",").map { trimmed($0).lowercased() }.filter { !$0.isEmpty }
    }

    private static func trimmed(_ text: Substring) -> String {
        let blank: Set<Character> = [" ", "\t"]
        return String(text.drop { blank.contains($0) }.reversed().drop { blank.contains($0) }.reversed())
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// RFC 9110 §5.6.2 token characters.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."),
            UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"): true
        default: false
        }
    }

    /// What is wrong with the request's parts, or nil.
    private static func requestProblem(hostHeader: String, target: String, key: [UInt8], extraHeaders: [(String, String)]) -> String? {
        func hasControl(_ text: String) -> Bool { text.utf8.contains { $0 < 0x20 || $0 == 0x7F } }
        if key.count != 16 { return "the key must be 16 bytes, not \(key.count)" }
        if hostHeader.isEmpty || hasControl(hostHeader) || hostHeader.contains(" ") { return "invalid Host value" }
        if !target.hasPrefix("/") || hasControl(target) || target.contains(" ") { return "the target must start with / and hold no blank or control character" }
        for (name, value) in extraHeaders {
            if name.isEmpty || !name.utf8.allSatisfy(isTokenByte) { return "invalid header name \(name.debugDescription)" }
            if value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) { return "control character in header \(name)" }
        }
        return nil
    }
}
