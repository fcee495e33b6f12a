import CSockeyeOpenSSL
import Foundation
@testable import SockeyeSim

/// A small threaded HTTP/1.1 server on 127.0.0.1 standing in for an app's Request URL:
/// plain or TLS, one request per connection (`Connection: close`) or keep-alive. It
/// records every request, the connections it accepted, failed TLS handshakes, and the
/// most requests it was handling at once.
final class TestRequestURL: @unchecked Sendable {
    struct Request { var headers: [String: String]; var body: String; var connection: Int }
    /// A certificate and its key (PEM files).
    struct TLSFiles { var cert: String; var key: String }

    let fd: Int32
    let port: Int
    let keepAlive: Bool
    /// Seconds a connection may stay idle (waiting for a request) before it is closed.
    let idleTimeout: Double
    /// TLS contexts; connection n (from 0) uses `contexts[min(n, count - 1)]`.
    private let contexts: [OpaquePointer]
    private let lock = NSLock()
    private var requests: [Request] = []
    private var connections = 0
    private var failedHandshakes = 0
    private var busy = 0
    private var maxBusy = 0
    /// Decides the reply (status, extra headers, body, delay seconds) for request number n (from 1).
    let reply: @Sendable (Int, Request) -> (Int, [String: String], String, Double)

    init(keepAlive: Bool = false, idleTimeout: Double = 5, tls: [TLSFiles] = [],
         reply: @escaping @Sendable (Int, Request) -> (Int, [String: String], String, Double)) {
        self.reply = reply
        self.keepAlive = keepAlive
        self.idleTimeout = idleTimeout
        contexts = tls.map { files in
            var err = [CChar](repeating: 0, count: 256)
            guard let ctx = sockeye_tls_stream_server_ctx(files.cert, files.key, &err, err.count) else {
                fatalError("test TLS server: \(String(cChars: err))")
            }
            return ctx
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 64)
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        port = Int(UInt16(bigEndian: addr.sin_port))
        let t = Thread { [self] in acceptLoop() }
        t.start()
    }

    deinit { contexts.forEach(sockeye_tls_stream_ctx_free) }

    func stop() { shutdown(fd, Int32(SHUT_RDWR)); close(fd) }

    var received: [Request] { lock.lock(); defer { lock.unlock() }; return requests }
    /// TCP connections accepted.
    var accepted: Int { lock.lock(); defer { lock.unlock() }; return connections }
    /// TLS handshakes that failed (e.g. the client did not trust the certificate).
    var handshakeFailures: Int { lock.lock(); defer { lock.unlock() }; return failedHandshakes }
    /// The most requests in progress at once (received, reply not yet written).
    var maxConcurrent: Int { lock.lock(); defer { lock.unlock() }; return maxBusy }

    /// Waits (bounded) until `n` requests arrived.
    func wait(for n: Int, timeout: Double = 10) -> [Request] {
        let deadline = Date().addingTimeInterval(timeout)
        while received.count < n, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        return received
    }

    private func acceptLoop() {
        while true {
            let c = accept(fd, nil, nil)
            if c < 0 { return }
            lock.lock(); let n = connections; connections += 1; lock.unlock()
            Thread { [self] in serve(c, number: n) }.start()
        }
    }

    /// Plain or TLS reads and writes on one accepted socket.
    private final class Stream {
        let fd: Int32
        var tls: OpaquePointer?
        init(fd: Int32) { self.fd = fd }
        deinit { if let tls { sockeye_tls_stream_free(tls) } }
        /// Bytes read, 0 at EOF, nil on an error or after `timeout` seconds.
        func read(_ buf: inout [UInt8], timeout: Double) -> Int? {
            if let tls {
                let n = buf.withUnsafeMutableBytes { sockeye_tls_stream_read(tls, $0.baseAddress, $0.count, Int32(timeout * 1000)) }
                return n >= 0 ? n : nil
            }
            var tv = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - Double(Int(timeout))) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            let n = recv(fd, &buf, buf.count, 0)
            return n >= 0 ? n : nil
        }
        func write(_ bytes: [UInt8]) {
            if let tls {
                _ = bytes.withUnsafeBytes { sockeye_tls_stream_write(tls, $0.baseAddress, $0.count, 5000) }
            } else {
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            }
        }
    }

    private func serve(_ c: Int32, number: Int) {
        defer { close(c) }
        let stream = Stream(fd: c)
        if !contexts.isEmpty {
            var err = [CChar](repeating: 0, count: 256)
            guard let t = sockeye_tls_stream_accept(contexts[min(number, contexts.count - 1)], c, 5000, &err, err.count) else {
                lock.lock(); failedHandshakes += 1; lock.unlock()
                return
            }
            stream.tls = t
        }
        var all: [UInt8] = []
        var tmp = [UInt8](repeating: 0, count: 65_536)
        // One request per iteration; bounded by the client closing or going idle.
        while true {
            var parsed: Request?
            while parsed == nil {
                if let h = TestWebSocket.find(all, Array("\r\n\r\n".utf8)) {
                    var headers: [String: String] = [:]
                    for l in String(decoding: all[..<h], as: UTF8.self).components(separatedBy: "\r\n").dropFirst() {
                        let p = l.split(separator: ":", maxSplits: 1)
                        if p.count == 2 { headers[p[0].lowercased()] = p[1].trimmingCharacters(in: .whitespaces) }
                    }
                    let cl = Int(headers["content-length"] ?? "0") ?? 0
                    if all.count >= h + 4 + cl {
                        parsed = Request(headers: headers, body: String(decoding: all[(h + 4)..<(h + 4 + cl)], as: UTF8.self), connection: number)
                        all.removeFirst(h + 4 + cl)
                        break
                    }
                }
                guard let n = stream.read(&tmp, timeout: idleTimeout), n > 0 else { return }
                all += tmp[..<n]
            }
            guard let req = parsed else { return }
            lock.lock()
            requests.append(req)
            let n = requests.count
            busy += 1
            maxBusy = max(maxBusy, busy)
            lock.unlock()
            let (status, extra, body, delay) = reply(n, req)
            if delay > 0 { Thread.sleep(forTimeInterval: delay) }
            var res = "HTTP/1.1 \(status) X\r\nContent-Length: \(body.utf8.count)\r\nConnection: \(keepAlive ? "keep-alive" : "close")\r\n"
            for (k, v) in extra { res += "\(k): \(v)\r\n" }
            res += "\r\n" + body
            lock.lock(); busy -= 1; lock.unlock()
            stream.write(Array(res.utf8))
            if !keepAlive { return }
        }
    }
}

/// A fresh self-signed certificate for 127.0.0.1 / localhost in its own temporary folder.
func makeTestCertificate() throws -> TestRequestURL.TLSFiles {
    let dir = NSTemporaryDirectory() + "sockeye-sim-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let files = TestRequestURL.TLSFiles(cert: dir + "/cert.pem", key: dir + "/key.pem")
    guard sockeye_make_self_signed(files.cert, files.key) == 0 else { throw SimError.listenFailed("no certificate") }
    return files
}
