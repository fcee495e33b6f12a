import SockeyeCore
import Testing

@Suite("WebSocketHandshake")
struct WebSocketHandshakeTests {
    /// RFC 6455 §1.3's example: this key ("dGhlIHNhbXBsZSBub25jZQ==" in base64) must be
    /// answered with "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
    static let key = Array("the sample nonce".utf8)
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

    func handshake(extraHeaders: [(String, String)] = []) -> WebSocketHandshake {
        WebSocketHandshake(hostHeader: "wss-primary.slack.com", target: "/link/?ticket=t-1&app_id=a1", key: Self.key, extraHeaders: extraHeaders)
    }

    static func answer(status: String = "101 Switching Protocols", headers: [String]) -> [UInt8] {
        Array((["HTTP/1.1 \(status)"] + headers).map { $0 + "\r\n" }.joined().utf8) + [0x0D, 0x0A]
    }

    static let goodHeaders = ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: \(accept)"]

    /// Feeds `chunks`; returns what each call returned, or the error.
    func receive(_ chunks: [[UInt8]], into handshake: inout WebSocketHandshake) -> Result<[Int?], WebSocketHandshakeError> {
        var results: [Int?] = []
        for chunk in chunks {
            let result = chunk.withUnsafeBytes { bytes in
                Result { () throws(WebSocketHandshakeError) in try handshake.receive(bytes) }
            }
            switch result {
            case .success(let value): results.append(value)
            case .failure(let error): return .failure(error)
            }
        }
        return .success(results)
    }

    func error(for answer: [UInt8], extraHeaders: [(String, String)] = []) -> WebSocketHandshakeError? {
        var handshake = handshake(extraHeaders: extraHeaders)
        if case .failure(let error) = receive([answer], into: &handshake) { return error }
        return nil
    }

    @Test("the request has the target, Host, Upgrade, Connection, the base64 key, version 13 and the extra headers")
    func request() {
        let request = String(decoding: handshake(extraHeaders: [("User-Agent", "sockeye/1")]).request, as: UTF8.self)
        #expect(request.hasPrefix("GET /link/?ticket=t-1&app_id=a1 HTTP/1.1\r\n"))
        #expect(request.hasSuffix("\r\n\r\n"))
        let lines = request.split(separator: "\r\n").map(String.init)
        for line in ["Host: wss-primary.slack.com", "Upgrade: websocket", "Connection: Upgrade",
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13", "User-Agent: sockeye/1"] {
            #expect(lines.contains(line), "\(line)")
        }
        #expect(handshake().expectedAccept == Self.accept)
    }

    @Test("a correct 101 split at every byte, with frame bytes behind it, says exactly how many bytes were header")
    func acceptsSplitAtEveryByte() {
        let header = Self.answer(headers: Self.goodHeaders)
        let frames: [UInt8] = [0x81, 0x02, 0x68, 0x69]
        let stream = header + frames
        for cut in 0...stream.count {
            var handshake = handshake()
            let first = Array(stream[..<cut]), second = Array(stream[cut...])
            guard case .success(let results) = receive([first, second], into: &handshake) else {
                Issue.record("refused at cut \(cut)")
                continue
            }
            if cut < header.count {
                #expect(results[0] == nil, "cut \(cut)")
                #expect(results[1] == header.count - cut, "cut \(cut)")
            } else {
                #expect(results[0] == header.count, "cut \(cut)")
                #expect(results[1] == 0, "cut \(cut): after completion no byte is header")
            }
            #expect(handshake.isComplete)
        }
    }

    @Test("header names and tokens are case-insensitive and comma lists are searched")
    func tokenLists() {
        let headers = ["upgrade: WebSocket", "CONNECTION: keep-alive, Upgrade", "sec-websocket-accept:\(Self.accept) ", "Server: x"]
        #expect(error(for: Self.answer(headers: headers)) == nil)
    }

    @Test("an answer whose lines end with a bare LF is accepted")
    func bareLineFeeds() {
        let answer = Array("HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: upgrade\nSec-WebSocket-Accept: \(Self.accept)\n\n".utf8)
        #expect(error(for: answer) == nil)
    }

    @Test("a status other than 101 is refused with its code, reason phrase and Retry-After")
    func unexpectedStatus() {
        #expect(error(for: Self.answer(status: "429 Too Many Requests", headers: ["Retry-After: 30", "Content-Length: 0"]))
            == .unexpectedStatus(code: 429, reason: "Too Many Requests", retryAfter: .seconds(30)))
        #expect(error(for: Self.answer(status: "408 Request Timeout", headers: [])) == .unexpectedStatus(code: 408, reason: "Request Timeout", retryAfter: nil))
        #expect(error(for: Self.answer(status: "200", headers: [])) == .unexpectedStatus(code: 200, reason: "", retryAfter: nil))
    }

    @Test("each missing or wrong handshake header gives its own error")
    func headerDefects() {
        let defects: [([String], WebSocketHandshakeError)] = [
            (["Connection: Upgrade", "Sec-WebSocket-Accept: \(Self.accept)"], .missingUpgrade),
            (["Upgrade: h2c", "Connection: Upgrade", "Sec-WebSocket-Accept: \(Self.accept)"], .missingUpgrade),
            (["Upgrade: websocket", "Sec-WebSocket-Accept: \(Self.accept)"], .missingConnectionUpgrade),
            (["Upgrade: websocket", "Connection: keep-alive", "Sec-WebSocket-Accept: \(Self.accept)"], .missingConnectionUpgrade),
            (["Upgrade: websocket", "Connection: Upgrade"], .missingAccept),
            (["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Accept: dGhlIHNhbXBsZSBub25jZQ=="], .wrongAccept("dGhlIHNhbXBsZSBub25jZQ==")),
            (Self.goodHeaders + ["Sec-WebSocket-Extensions: permessage-deflate"], .unexpectedExtension("permessage-deflate")),
            (Self.goodHeaders + ["Sec-WebSocket-Protocol: chat"], .unexpectedSubprotocol("chat")),
            (Self.goodHeaders + ["no colon here"], .malformedHeaderLine),
            (Self.goodHeaders + [": empty name"], .malformedHeaderLine),
        ]
        var seen: [WebSocketHandshakeError] = []
        for (headers, expected) in defects {
            #expect(error(for: Self.answer(headers: headers)) == expected, "\(headers)")
            seen.append(expected)
        }
        // The errors describe themselves differently.
        #expect(Set(seen.map(\.description)).count == Set(seen).count)
    }

    @Test("a subprotocol the client offered is accepted; one it did not offer is refused")
    func offeredSubprotocol() {
        let offered = [("Sec-WebSocket-Protocol", "chat, superchat")]
        #expect(error(for: Self.answer(headers: Self.goodHeaders + ["Sec-WebSocket-Protocol: superchat"]), extraHeaders: offered) == nil)
        #expect(error(for: Self.answer(headers: Self.goodHeaders + ["Sec-WebSocket-Protocol: other"]), extraHeaders: offered)
            == .unexpectedSubprotocol("other"))
    }

    @Test("malformed status lines are refused")
    func malformedStatusLines() {
        for line in ["HTTP/1.1 10 Switching", "HTTP/2 101 Switching Protocols", "garbage", "HTTP/1.1 1x1 x", "HTTP/1.1  101 x"] {
            let answer = Array((line + "\r\nUpgrade: websocket\r\n\r\n").utf8)
            #expect(error(for: answer) == .malformedStatusLine, "\(line)")
        }
    }

    @Test("a header over 16 KiB is refused before its end arrives")
    func headerTooLarge() {
        var padded = handshake()
        let start = Array("HTTP/1.1 101 Switching Protocols\r\nX-Padding: ".utf8)
        let padding = [UInt8](repeating: 0x61, count: 1024)
        var chunks = [start]
        for _ in 0..<17 { chunks.append(padding) }
        #expect(receive(chunks, into: &padded) == .failure(.headerTooLarge(limit: 16 * 1024)))
        // Exactly at the limit is fine.
        var exact = handshake()
        let head = Array("HTTP/1.1 101 Switching Protocols\r\n".utf8) + Self.goodHeaders.flatMap { Array(($0 + "\r\n").utf8) }
        let fill = 16 * 1024 - head.count - "X-Pad: \r\n\r\n".utf8.count
        let full = head + Array("X-Pad: ".utf8) + [UInt8](repeating: 0x62, count: fill) + Array("\r\n\r\n".utf8)
        #expect(full.count == 16 * 1024)
        #expect(receive([full], into: &exact) == .success([full.count]))
    }

    @Test("after a refusal every later call throws the same error")
    func failedStaysFailed() {
        var handshake = handshake()
        let bad = Self.answer(status: "403 Forbidden", headers: [])
        let first = receive([bad], into: &handshake)
        let second = receive([Self.answer(headers: Self.goodHeaders)], into: &handshake)
        #expect(first == .failure(.unexpectedStatus(code: 403, reason: "Forbidden", retryAfter: nil)))
        #expect(second == first)
    }

    @Test("a key that is not 16 bytes or a header with CR LF makes no request and fails at once")
    func invalidRequests() {
        let shortKey = WebSocketHandshake(hostHeader: "h", target: "/", key: Array(Self.key.dropLast()))
        #expect(shortKey.request.isEmpty)
        #expect(shortKey.requestError == .invalidRequest("the key must be 16 bytes, not 15"))
        let injected = WebSocketHandshake(hostHeader: "h", target: "/", key: Self.key, extraHeaders: [("User-Agent", "x\r\nEvil: 1")])
        #expect(injected.request.isEmpty)
        #expect(injected.requestError != nil)
        var copy = injected
        #expect(receive([Self.answer(headers: Self.goodHeaders)], into: &copy) == .failure(injected.requestError!))
        for (host, target) in [("", "/"), ("h", "x"), ("h", "/a b"), ("h\n", "/"), ("h", "/\r\n")] {
            #expect(WebSocketHandshake(hostHeader: host, target: target, key: Self.key).requestError != nil, "\(host.debugDescription) \(target.debugDescription)")
        }
    }
}
