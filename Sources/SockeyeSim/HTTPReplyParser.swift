/// An HTTP/1.x response from a Request URL.
struct RequestURLReply: Sendable {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: [UInt8]
    /// The connection may carry the next request (HTTP/1.1 without `Connection: close`,
    /// or HTTP/1.0 with `Connection: keep-alive`, and a delimited body).
    var keepAlive: Bool
}

/// Parses one HTTP/1.x response from the front of a buffer: a body delimited by
/// `Content-Length`, by `Transfer-Encoding: chunked`, or by EOF; interim 1xx responses
/// are skipped.
enum HTTPReplyParser {
    enum Failure: Error { case malformed }

    /// The reply and the bytes it used, or nil when more input is needed. `eof`: the peer
    /// closed, so a body without a length ends here.
    static func parse(_ buf: [UInt8], eof: Bool) throws -> (reply: RequestURLReply, consumed: Int)? {
        var start = 0
        while true {
            guard let h = find(buf, from: start, [13, 10, 13, 10]) else {
                if eof, buf.count > start { throw Failure.malformed }
                return nil
            }
            let lines = String(decoding: buf[start..<h], as: UTF8.self).components(separatedBy: "\r\n")
            let parts = lines[0].split(separator: " ", maxSplits: 2)
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else { throw Failure.malformed }
            var headers: [String: String] = [:]
            for l in lines.dropFirst() {
                let p = l.split(separator: ":", maxSplits: 1)
                if p.count == 2 { headers[p[0].lowercased().trimmingCharacters(in: .whitespaces)] = p[1].trimmingCharacters(in: .whitespaces) }
            }
            let bodyStart = h + 4
            if (100..<200).contains(status) { start = bodyStart; continue }
            let connection = headers["connection"]?.lowercased() ?? ""
            var keepAlive = parts[0] == "HTTP/1.1" ? !connection.contains("close") : connection.contains("keep-alive")
            if status == 204 || status == 304 {
                return (RequestURLReply(status: status, headers: headers, body: [], keepAlive: keepAlive), bodyStart)
            }
            if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
                guard let (body, end) = try chunked(buf, from: bodyStart) else {
                    if eof { throw Failure.malformed }
                    return nil
                }
                return (RequestURLReply(status: status, headers: headers, body: body, keepAlive: keepAlive), end)
            }
            if let cl = headers["content-length"] {
                guard let n = Int(cl), n >= 0 else { throw Failure.malformed }
                guard buf.count - bodyStart >= n else {
                    if eof { throw Failure.malformed }
                    return nil
                }
                return (RequestURLReply(status: status, headers: headers, body: Array(buf[bodyStart..<(bodyStart + n)]), keepAlive: keepAlive),
                        bodyStart + n)
            }
            // No length: the body runs to EOF and the connection cannot be reused.
            guard eof else { return nil }
            keepAlive = false
            return (RequestURLReply(status: status, headers: headers, body: Array(buf[bodyStart...]), keepAlive: keepAlive), buf.count)
        }
    }

    /// Decodes a chunked body starting at `at`; nil while incomplete.
    static func chunked(_ buf: [UInt8], from at: Int) throws -> (body: [UInt8], end: Int)? {
        var body: [UInt8] = []
        var i = at
        while true {
            guard let lineEnd = find(buf, from: i, [13, 10]) else { return nil }
            let line = String(decoding: buf[i..<lineEnd], as: UTF8.self)
            guard let size = Int(line.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) ?? "", radix: 16), size >= 0
            else { throw Failure.malformed }
            i = lineEnd + 2
            if size == 0 {
                // Trailers (ignored) up to an empty line.
                while true {
                    guard let e = find(buf, from: i, [13, 10]) else { return nil }
                    if e == i { return (body, e + 2) }
                    i = e + 2
                }
            }
            guard buf.count >= i + size + 2 else { return nil }
            body += buf[i..<(i + size)]
            i += size + 2
        }
    }

    static func find(_ hay: [UInt8], from: Int, _ needle: [UInt8]) -> Int? {
        guard hay.count - from >= needle.count else { return nil }
        var i = from
        while i <= hay.count - needle.count {
            if hay[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where hay[i + j] != needle[j] { match = false; break }
                if match { return i }
            }
            i += 1
        }
        return nil
    }
}
