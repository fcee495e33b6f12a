/// One keep-alive HTTP/1.1 connection to the Request URL, used by one delivery worker at
/// a time. It connects on first use, reconnects after the app closed it, and resends once
/// on a fresh connection when a reused one turns out to be dead before any reply byte
/// (the app closed it while it was idle).
final class HTTPClientConnection {
    let target: RequestTarget
    private var stream: HTTPStream?
    private var buffer: [UInt8] = []
    /// TCP (and TLS) connections opened so far.
    private(set) var opened = 0

    init(target: RequestTarget) { self.target = target }

    /// POSTs `body` with `headers` and returns the reply, all before `deadline`. Throws
    /// `HTTPStream.Failure` (the connection is closed after any failure).
    func post(headers: [(String, String)], body: [UInt8], deadline: Double) throws -> RequestURLReply {
        var head = "POST \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nContent-Length: \(body.count)\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        for _ in 0..<2 {
            let reused = stream != nil
            do {
                return try exchange(request, deadline: deadline)
            } catch HTTPStream.Failure.closed where reused && buffer.isEmpty {
                close()
                continue
            } catch {
                close()
                throw error
            }
        }
        throw HTTPStream.Failure.closed
    }

    private func exchange(_ request: [UInt8], deadline: Double) throws -> RequestURLReply {
        let s: HTTPStream
        if let stream { s = stream } else {
            s = try HTTPStream.open(target, deadline: deadline)
            stream = s
            opened += 1
        }
        buffer = []
        try s.write(request, deadline: deadline)
        while true {
            if let (reply, used) = try parsed(eof: false) {
                buffer.removeFirst(used)
                if !reply.keepAlive { close() }
                return reply
            }
            if try s.read(into: &buffer, deadline: deadline) == 0 {
                guard !buffer.isEmpty, let (reply, _) = try parsed(eof: true) else { throw HTTPStream.Failure.closed }
                close()
                return reply
            }
        }
    }

    private func parsed(eof: Bool) throws -> (RequestURLReply, Int)? {
        do { return try HTTPReplyParser.parse(buffer, eof: eof) } catch { throw HTTPStream.Failure.closed }
    }

    /// Drops the connection (the next request opens a new one).
    func close() {
        stream = nil
        buffer = []
    }
}
