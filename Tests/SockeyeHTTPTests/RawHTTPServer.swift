import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A blocking one-connection-at-a-time TCP server on 127.0.0.1 for the client pool's tests:
/// for each connection it reads a request head (and its Content-Length body) and runs the
/// scripted `answer`, which writes whatever bytes a misbehaving server would.
final class RawHTTPServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32
    private let thread: Thread
    /// Connections accepted so far.
    private let accepted = AcceptCount()

    final class AcceptCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// `answer(connection, requestNumberOnConnection, descriptor)`: returns false to close the
    /// connection after answering.
    init(answer: @escaping @Sendable (Int, Int, Int32) -> Bool) throws {
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
        let accepted = self.accepted
        thread = Thread {
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { return }
                let number = accepted.value.add(1, ordering: .relaxed).newValue
                Thread.detachNewThread {
                    var index = 0
                    while RawHTTPServer.readRequest(client) {
                        index += 1
                        if !answer(number, index, client) { break }
                    }
                    close(client)
                }
            }
        }
        thread.start()
    }

    var acceptedCount: Int { accepted.value.load(ordering: .relaxed) }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    /// Reads one request (head, then Content-Length bytes); false at end of stream.
    static func readRequest(_ descriptor: Int32) -> Bool {
        var data: [UInt8] = []
        var byte: UInt8 = 0
        while !(data.count >= 4 && data.suffix(4) == [13, 10, 13, 10]) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { return false }
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
            if count <= 0 { return false }
            remaining -= count
        }
        return true
    }

    static func write(_ descriptor: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}
