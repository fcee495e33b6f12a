import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for the server tests: sends exactly the bytes given (pipelined,
/// malformed, split) and reads what comes back until the peer closes or `timeout` passes.
///
/// Reads block the calling thread on purpose, even on the cooperative pool: a conversation
/// on one connection then has no suspension point, and a starved pool (whole minutes in a
/// parallel run on two cores) cannot stretch the gap between two requests past one of the
/// server's deadlines. Nothing a test waits for here runs on the pool: the server is on its
/// event loops.
struct RawHTTPClient {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw POSIXError(.ECONNREFUSED) }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Reads until the peer closes (`closed` true) or nothing arrives for `timeout` seconds.
    /// For what must end with a close: the wait only runs its course when the close is missing.
    func read(timeout: Double = 1.0) -> (text: String, closed: Bool) {
        var out: [UInt8] = []
        while true {
            switch receive(into: &out, waiting: timeout) {
            case .data: continue
            case .closed: return (String(decoding: out, as: UTF8.self), true)
            case .quiet: return (String(decoding: out, as: UTF8.self), false)
            }
        }
    }

    /// Reads until `done` holds for what was read, the peer closes, or `timeout` seconds pass.
    /// For an answer on a connection that stays open: it returns as soon as the answer is
    /// complete, so the deadline can be generous (a loaded machine may answer late).
    func read(until done: (String) -> Bool, timeout: Double = 30) -> (text: String, closed: Bool) {
        let deadline = Date().addingTimeInterval(timeout)
        var out: [UInt8] = []
        while !done(String(decoding: out, as: UTF8.self)) {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            if receive(into: &out, waiting: left) == .closed { return (String(decoding: out, as: UTF8.self), true) }
        }
        return (String(decoding: out, as: UTF8.self), false)
    }

    private enum Received { case data, closed, quiet }

    /// Waits up to `seconds` for bytes and appends them. A signal interrupting the wait
    /// (EINTR) does not count as silence: the wait goes on for the time left.
    private func receive(into out: inout [UInt8], waiting seconds: Double) -> Received {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(0, min(deadline.timeIntervalSinceNow, 60)) * 1000))
            if ready < 0 && errno == EINTR && deadline.timeIntervalSinceNow > 0 { continue }
            guard ready > 0 else { return .quiet }
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(descriptor, &buffer, buffer.count, 0)
            if count <= 0 { return .closed }
            out.append(contentsOf: buffer[..<count])
            return .data
        }
    }

    func close() { _ = Glibc.close(descriptor) }
}

extension String {
    /// The status codes of the responses in this text, in order.
    var statusCodes: [Int] {
        components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }
}
