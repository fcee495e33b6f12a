import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small blocking RFC 6455 client over a real TCP socket, so tests can drive the
/// simulator like a peer would — including misbehaving on purpose (garbage, oversized
/// frames, silence).
final class TestWebSocket {
    struct Frame { var opcode: UInt8; var payload: [UInt8]; var text: String { String(decoding: payload, as: UTF8.self) } }
    enum Failure: Error, Equatable { case connect, handshake(String), closed, timeout }

    let fd: Int32
    private var buffer: [UInt8] = []
    /// Answer server pings automatically.
    var autoPong = true
    /// Pings received (payloads).
    var pings: [String] = []

    static func tcp(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else { close(fd); throw Failure.connect }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return fd
    }

    /// Connects to a `ws://127.0.0.1:PORT/path?query` URL and completes the handshake.
    init(url: String) throws {
        guard let u = URL(string: url), let port = u.port else { throw Failure.connect }
        fd = try Self.tcp(port: port)
        let target = url.components(separatedBy: "\(port)").dropFirst().joined(separator: "\(port)")
        let request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        sendAll(Array(request.utf8))
        setTimeout(5)
        var head: [UInt8] = []
        while true {
            let chunk = try readSome()
            head += chunk
            if let r = Self.find(head, Array("\r\n\r\n".utf8)) {
                buffer = Array(head[(r + 4)...])
                let text = String(decoding: head[..<r], as: UTF8.self)
                guard text.hasPrefix("HTTP/1.1 101"), text.contains("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") else { close(fd); throw Failure.handshake(text) }
                return
            }
        }
    }

    deinit { close(fd) }

    static func find(_ hay: [UInt8], _ needle: [UInt8]) -> Int? {
        guard hay.count >= needle.count else { return nil }
        for i in 0...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { return i }
        return nil
    }

    func setTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    func readSome() throws -> [UInt8] {
        var tmp = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &tmp, tmp.count, 0)
        if n == 0 { throw Failure.closed }
        if n < 0 { throw (errno == EAGAIN || errno == EWOULDBLOCK) ? Failure.timeout : Failure.closed }
        return Array(tmp[..<n])
    }

    func sendAll(_ bytes: [UInt8]) {
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            off += n
        }
    }

    /// Sends one masked frame.
    func sendFrame(opcode: UInt8, _ payload: [UInt8], fin: Bool = true) {
        var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let n = payload.count
        if n < 126 { f.append(0x80 | UInt8(n)) }
        else if n <= 0xFFFF { f += [0x80 | 126, UInt8(n >> 8), UInt8(n & 0xFF)] }
        else { f.append(0x80 | 127); for i in stride(from: 56, through: 0, by: -8) { f.append(UInt8((n >> i) & 0xFF)) } }
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        f += mask
        for (i, b) in payload.enumerated() { f.append(b ^ mask[i & 3]) }
        sendAll(f)
    }

    func sendText(_ s: String) { sendFrame(opcode: 0x1, Array(s.utf8)) }

    /// Reads the next data or close frame (pings are answered and recorded).
    func next(timeout: Double = 5) throws -> Frame {
        setTimeout(timeout)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let f = parse() {
                if f.opcode == 0x9 {
                    pings.append(f.text)
                    if autoPong { sendFrame(opcode: 0xA, f.payload) }
                    continue
                }
                return f
            }
            if Date() > deadline { throw Failure.timeout }
            buffer += try readSome()
        }
    }

    /// Reads frames until one whose text contains `needle` (bounded by `timeout`).
    func next(containing needle: String, timeout: Double = 5) throws -> Frame {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let f = try next(timeout: max(0.01, deadline.timeIntervalSinceNow))
            if f.text.contains(needle) || f.opcode == 0x8 { return f }
        }
        throw Failure.timeout
    }

    private func parse() -> Frame? {
        guard buffer.count >= 2 else { return nil }
        let op = buffer[0] & 0x0F
        var len = Int(buffer[1] & 0x7F)
        var at = 2
        if len == 126 { guard buffer.count >= 4 else { return nil }; len = Int(buffer[2]) << 8 | Int(buffer[3]); at = 4 }
        else if len == 127 { guard buffer.count >= 10 else { return nil }; len = 0; for i in 2..<10 { len = len << 8 | Int(buffer[i]) }; at = 10 }
        guard buffer.count >= at + len else { return nil }
        let f = Frame(opcode: op, payload: Array(buffer[at..<(at + len)]))
        precondition(buffer[0] & 0x80 != 0, "server frames must never be fragmented")
        buffer.removeFirst(at + len)
        return f
    }

    /// Closes the TCP connection without a close frame.
    func drop() { shutdown(fd, Int32(SHUT_RDWR)) }

    /// Close code of a close frame.
    static func closeCode(_ f: Frame) -> Int { f.payload.count >= 2 ? Int(f.payload[0]) << 8 | Int(f.payload[1]) : 1005 }
}

/// Minimal HTTP/1.1 client (Connection: close) for the Web and admin APIs.
enum TestHTTP {
    struct Response { var status: Int; var headers: [String: String]; var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    static func request(port: Int, method: String = "POST", path: String, headers: [String: String] = [:], body: String = "") throws -> Response {
        let fd = try TestWebSocket.tcp(port: port)
        defer { close(fd) }
        var req = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
        for (k, v) in headers { req += "\(k): \(v)\r\n" }
        req += "\r\n" + body
        let bytes = Array(req.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        var tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var all: [UInt8] = []
        var tmp = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &tmp, tmp.count, 0)
            if n <= 0 { break }
            all += tmp[..<n]
            if let h = TestWebSocket.find(all, Array("\r\n\r\n".utf8)) {
                let head = String(decoding: all[..<h], as: UTF8.self).lowercased()
                if let cl = head.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
                   let n = Int(cl.dropFirst(15).trimmingCharacters(in: .whitespaces)), all.count >= h + 4 + n { break }
            }
        }
        guard let h = TestWebSocket.find(all, Array("\r\n\r\n".utf8)) else { throw TestWebSocket.Failure.closed }
        let lines = String(decoding: all[..<h], as: UTF8.self).components(separatedBy: "\r\n")
        let status = Int(lines[0].split(separator: " ")[1]) ?? 0
        var hs: [String: String] = [:]
        for l in lines.dropFirst() { let p = l.split(separator: ":", maxSplits: 1); if p.count == 2 { hs[p[0].lowercased()] = p[1].trimmingCharacters(in: .whitespaces) } }
        return Response(status: status, headers: hs, body: String(decoding: all[(h + 4)...], as: UTF8.self))
    }

    static func admin(_ port: Int, _ path: String, _ json: String = "{}") throws -> Response {
        try request(port: port, path: path, headers: ["Content-Type": "application/json"], body: json)
    }
}
