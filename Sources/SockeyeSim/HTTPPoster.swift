import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.1 POST over a plain TCP socket with a total deadline (enough for a
/// Request URL on loopback or a LAN; `https://` Request URLs are not supported).
enum HTTPPoster {
    struct Reply { var status: Int; var headers: [String: String]; var body: [UInt8] }
    enum Failure: Error { case badURL, connect, timeout }

    static func post(url: String, headers: [(String, String)], body: [UInt8], timeout: Double) throws -> Reply {
        guard let u = URL(string: url), u.scheme == "http", let host = u.host else { throw Failure.badURL }
        let port = u.port ?? 80
        var hints = addrinfo(ai_flags: 0, ai_family: AF_INET, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0,
                             ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &res) == 0, let ai = res else { throw Failure.connect }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure.connect }
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) == 0 else { throw Failure.connect }
        let deadline = Date().addingTimeInterval(timeout)
        var path = u.path.isEmpty ? "/" : u.path
        if let q = u.query { path += "?" + q }
        var head = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var off = 0
        while off < request.count {
            let n = request[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { throw (errno == EAGAIN ? Failure.timeout : Failure.connect) }
            off += n
        }
        var all: [UInt8] = []
        var tmp = [UInt8](repeating: 0, count: 16_384)
        while Date() < deadline {
            let n = recv(fd, &tmp, tmp.count, 0)
            if n == 0 { break }
            if n < 0 { if errno == EAGAIN || errno == EWOULDBLOCK { throw Failure.timeout }; throw Failure.connect }
            all += tmp[..<n]
            if let reply = parse(all, complete: false) { return reply }
        }
        if Date() >= deadline { throw Failure.timeout }
        guard let reply = parse(all, complete: true) else { throw Failure.connect }
        return reply
    }

    /// Parses a response once the headers and `Content-Length` bytes are in (or at EOF).
    static func parse(_ all: [UInt8], complete: Bool) -> Reply? {
        let sep: [UInt8] = [13, 10, 13, 10]
        guard all.count >= 4, let h = (0...(all.count - 4)).first(where: { Array(all[$0..<($0 + 4)]) == sep }) else { return nil }
        let lines = String(decoding: all[..<h], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        var headers: [String: String] = [:]
        for l in lines.dropFirst() {
            let p = l.split(separator: ":", maxSplits: 1)
            if p.count == 2 { headers[p[0].lowercased()] = p[1].trimmingCharacters(in: .whitespaces) }
        }
        let body = Array(all[(h + 4)...])
        if let cl = headers["content-length"].flatMap(Int.init) {
            return body.count >= cl ? Reply(status: status, headers: headers, body: Array(body.prefix(cl))) : nil
        }
        return complete ? Reply(status: status, headers: headers, body: body) : nil
    }
}
