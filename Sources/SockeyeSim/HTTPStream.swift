import CSockeyeOpenSSL
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One TCP connection to a Request URL, plain or TLS, with a deadline (monotonic
/// seconds) on every operation. Not thread-safe: one worker owns it.
final class HTTPStream {
    /// Why an operation failed.
    enum Failure: Error, Equatable {
        /// TCP connect failed (refused, unreachable, name not resolved).
        case connect(String)
        /// The TLS handshake failed, e.g. an untrusted certificate.
        case tls(String)
        case timeout
        /// The peer closed or reset the connection.
        case closed
    }

    private let fd: Int32
    private var tls: OpaquePointer?

    private init(fd: Int32, tls: OpaquePointer?) { self.fd = fd; self.tls = tls }

    deinit {
        if let tls { sockeye_tls_stream_free(tls) }
        Glibc.close(fd)
    }

    /// Connects (and, for `https://`, completes the TLS handshake) before `deadline`.
    static func open(_ target: RequestTarget, deadline: Double) throws -> HTTPStream {
        var hints = addrinfo(ai_flags: 0, ai_family: AF_INET, ai_socktype: Int32(SOCK_STREAM.rawValue), ai_protocol: 0,
                             ai_addrlen: 0, ai_addr: nil, ai_canonname: nil, ai_next: nil)
        var res: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(target.host, String(target.port), &hints, &res) == 0, let ai = res else {
            throw Failure.connect("cannot resolve \(target.host)")
        }
        defer { freeaddrinfo(res) }
        let fd = socket(ai.pointee.ai_family, ai.pointee.ai_socktype, ai.pointee.ai_protocol)
        guard fd >= 0 else { throw Failure.connect("socket: \(String(cString: strerror(errno)))") }
        let stream = HTTPStream(fd: fd, tls: nil)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if connect(fd, ai.pointee.ai_addr, ai.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else { throw Failure.connect("\(target.hostHeader): \(String(cString: strerror(errno)))") }
            guard try stream.wait(Int16(POLLOUT), deadline: deadline) else { throw Failure.timeout }
            var soError: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
            guard soError == 0 else { throw Failure.connect("\(target.hostHeader): \(String(cString: strerror(soError)))") }
        }
        if let ctx = target.tls {
            var err = [CChar](repeating: 0, count: 256)
            guard let t = sockeye_tls_stream_connect(ctx, fd, target.host, Self.millis(until: deadline), &err, err.count) else {
                let message = String(cChars: err)
                if message.contains("timed out") { throw Failure.timeout }
                throw Failure.tls("TLS with \(target.hostHeader): \(message)")
            }
            stream.tls = t
        }
        return stream
    }

    /// Writes every byte before `deadline`.
    func write(_ bytes: [UInt8], deadline: Double) throws {
        if let tls {
            let n = bytes.withUnsafeBytes { sockeye_tls_stream_write(tls, $0.baseAddress, $0.count, Self.millis(until: deadline)) }
            if n == SOCKEYE_TLS_STREAM_TIMEOUT { throw Failure.timeout }
            if n < 0 { throw Failure.closed }
            return
        }
        var off = 0
        while off < bytes.count {
            let n = bytes[off...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n > 0 { off += n; continue }
            guard n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { throw Failure.closed }
            guard try wait(Int16(POLLOUT), deadline: deadline) else { throw Failure.timeout }
        }
    }

    /// Reads what is available (waiting until `deadline`) and appends it; returns the
    /// count, 0 at EOF.
    func read(into buffer: inout [UInt8], deadline: Double) throws -> Int {
        var tmp = [UInt8](repeating: 0, count: 16_384)
        if let tls {
            let n = tmp.withUnsafeMutableBytes { sockeye_tls_stream_read(tls, $0.baseAddress, $0.count, Self.millis(until: deadline)) }
            if n == SOCKEYE_TLS_STREAM_TIMEOUT { throw Failure.timeout }
            if n < 0 { throw Failure.closed }
            buffer += tmp[..<n]
            return n
        }
        while true {
            let n = recv(fd, &tmp, tmp.count, 0)
            if n >= 0 { buffer += tmp[..<n]; return n }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { throw Failure.closed }
            guard try wait(Int16(POLLIN), deadline: deadline) else { throw Failure.timeout }
        }
    }

    /// Polls for `events`; false when `deadline` passes first.
    private func wait(_ events: Int16, deadline: Double) throws -> Bool {
        while true {
            let ms = Self.millis(until: deadline)
            if ms <= 0 { return false }
            var p = pollfd(fd: fd, events: events, revents: 0)
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n == 0 { return false }
            if errno != EINTR { throw Failure.closed }
        }
    }

    static func millis(until deadline: Double) -> Int32 {
        Int32(max(0, min(Double(Int32.max), ((deadline - SimServer.monotonic()) * 1000).rounded(.up))))
    }
}

extension String {
    /// The NUL-terminated text in a C character buffer.
    init(cChars buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
