import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP server on 127.0.0.1 for the client pool's tests (a thread per connection):
/// for each connection it reads a request head (and its Content-Length body) and runs the
/// scripted `answer`, which writes whatever bytes a misbehaving server would.
///
/// Only requests carrying `marker` in their head (the `markerHeader` field) are the test's:
/// the whole test binary runs in parallel, and a client of another test still retrying a
/// port that was closed and handed out again can connect here. Its connection is closed
/// unanswered and takes no number, so connection numbers and counts are the test's own.
final class RawHTTPServer: @unchecked Sendable {
    /// The header field that carries `marker`.
    static let markerHeader = "X-Raw-Server"

    let port: Int
    /// What the test's requests carry in `markerHeader`: unique to this server.
    let marker = "raw-\(UInt64.random(in: 1...UInt64.max))"
    private let listener: Int32
    private let thread: Thread
    private let counts = Counts()

    final class Counts: Sendable {
        /// Connections that carried a request of the test.
        let connections = Atomic<Int>(0)
        /// Requests of the test read, on every connection.
        let requests = Atomic<Int>(0)
        /// Connections of the test closed by the server.
        let closed = Atomic<Int>(0)
    }

    /// One request of the test, as the scripted answer sees it.
    struct Request: Sendable {
        /// The connection's number, from 1 in the order their first request was read.
        let connection: Int
        /// The request's number on its connection, from 1.
        let index: Int
        /// The request line and header fields.
        let head: String

        /// Whether the head has the field `name: value` (the name in any case).
        func has(_ name: String, _ value: String) -> Bool {
            head.lowercased().contains("\r\n\(name.lowercased()): \(value.lowercased())\r\n")
        }
    }

    /// `answer(connection, requestNumberOnConnection, descriptor)`: returns false to close the
    /// connection after answering. Connections are numbered from 1 in the order their first
    /// request of the test was read.
    convenience init(answer: @escaping @Sendable (Int, Int, Int32) -> Bool) throws {
        try self.init(answering: { request, descriptor in answer(request.connection, request.index, descriptor) })
    }

    /// `answering(request, descriptor)`: returns false to close the connection after answering.
    init(answering answer: @escaping @Sendable (Request, Int32) -> Bool) throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 16) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let descriptor = listener
        let counts = self.counts
        let marker = Array("\(Self.markerHeader.lowercased()): \(self.marker)".utf8)
        thread = Thread {
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { return }
                Thread.detachNewThread {
                    var number = 0
                    var index = 0
                    while let head = RawHTTPServer.readRequest(client) {
                        guard RawHTTPServer.lowercased(head).contains(marker) else { break }
                        if number == 0 { number = counts.connections.add(1, ordering: .relaxed).newValue }
                        counts.requests.add(1, ordering: .relaxed)
                        index += 1
                        let request = Request(connection: number, index: index, head: String(decoding: head, as: UTF8.self))
                        if !answer(request, client) { break }
                    }
                    close(client)
                    if number > 0 { counts.closed.add(1, ordering: .relaxed) }
                }
            }
        }
        thread.start()
    }

    /// Connections that carried a request of the test.
    var acceptedCount: Int { counts.connections.load(ordering: .relaxed) }
    /// Requests of the test the server read (answered or not).
    var requestCount: Int { counts.requests.load(ordering: .relaxed) }
    /// Connections of the test the server has closed.
    var closedCount: Int { counts.closed.load(ordering: .relaxed) }

    /// Waits (polling, up to 30 s) until `condition` holds; false if it never did.
    static func wait(for condition: () -> Bool) async -> Bool {
        for _ in 0..<3000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Reads one request (head, then Content-Length bytes) and returns its head; nil at end
    /// of stream, or for a head over 64 KiB.
    static func readRequest(_ descriptor: Int32) -> [UInt8]? {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while !(data.count >= 4 && data.suffix(4) == [13, 10, 13, 10]) {
            guard data.count < 65536, recv(descriptor, &byte, 1, 0) == 1 else { return nil }
            data.append(byte)
        }
        let head = String(decoding: data, as: UTF8.self).lowercased()
        var remaining = 0
        if let range = head.range(of: "content-length: ") {
            remaining = Int(head[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while remaining > 0 {
            let count = recv(descriptor, &buffer, min(buffer.count, remaining), 0)
            if count <= 0 { return nil }
            remaining -= count
        }
        return data
    }

    static func lowercased(_ bytes: [UInt8]) -> [UInt8] {
        bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
    }

    /// Reads and drops what the client sends until it closes the connection (or 30 s pass):
    /// a server that never answers, for as long as the client waits.
    static func awaitClose(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<300 {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 100) >= 0 else { return }
            if poller.revents != 0 && recv(descriptor, &buffer, buffer.count, 0) <= 0 { return }
        }
    }

    static func write(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// A port that refuses connections for as long as this object lives: a socket bound to it
/// that does not listen. Unlike a port whose server was closed, no other server of the test
/// binary can be given it meanwhile, so a connection to it is refused, never answered.
final class RefusingPort {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            close(descriptor)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
