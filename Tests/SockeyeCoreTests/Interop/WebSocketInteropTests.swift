import Foundation
import SockeyeCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What the client saw on one connection.
struct InteropClientRun {
    var texts: [[UInt8]] = []
    var pings: [[UInt8]] = []
    var serverClose: (code: UInt16?, reason: String)?
    var error: WebSocketProtocolError?
    /// The code of the close frame the client sent (1005: an empty close frame).
    var sentClose: UInt16?
}

/// A minimal blocking client over the codec: handshake, then decode; answers pings with
/// pongs, echoes texts, echoes the server's close code, closes with its own code on a
/// protocol error, and reads until the server closes the TCP connection.
func runInteropClient(port: Int, scenario: String, maxMessageSize: Int) throws -> InteropClientRun {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    try #require(fd >= 0, "socket() failed")
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    try #require(connected == 0, "connect to 127.0.0.1:\(port) failed")
    // A stuck server fails the test instead of hanging it.
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))

    func sendAll(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            let sent = send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if sent <= 0 { return }
            offset += sent
        }
    }

    var rng = SystemRandomNumberGenerator()
    let key = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
    var handshake = WebSocketHandshake(
        hostHeader: "127.0.0.1:\(port)", target: "/\(scenario)", key: key, extraHeaders: [("User-Agent", "sockeye-codec-interop")])
    handshake.request.withUnsafeBytes { sendAll($0) }

    var decoder = WebSocketFrameDecoder(maxMessageSize: maxMessageSize)
    var writer = WebSocketFrameWriter()
    var run = InteropClientRun()
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    var upgraded = false
    var finished = false
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { break }  // the server closed the connection (or the timeout hit)
        if finished { continue }  // draining after our close frame
        let received = try buffer.withUnsafeBytes { (all) -> Result<Void, WebSocketProtocolError> in
            var bytes = UnsafeRawBufferPointer(rebasing: all[..<count])
            if !upgraded {
                guard let used = try handshake.receive(bytes) else { return .success(()) }
                upgraded = true
                bytes = UnsafeRawBufferPointer(rebasing: bytes[used...])
            }
            return Result { () throws(WebSocketProtocolError) in
                try decoder.decode(bytes) { message in
                    switch message {
                    case .text(let text):
                        run.texts.append(Array(text))
                        writer.appendText(text, using: &rng)
                    case .binary:
                        break
                    case .ping(let payload):
                        run.pings.append(Array(payload))
                        try? writer.appendPong(payload, using: &rng)
                    case .pong:
                        break
                    case .close(let code, let reason):
                        run.serverClose = (code, String(decoding: reason, as: UTF8.self))
                        run.sentClose = code ?? 1005
                        try? writer.appendClose(code: code ?? 1005, reason: "", using: &rng)
                    }
                }
            }
        }
        if case .failure(let error) = received {
            run.error = error
            run.sentClose = error.closeCode
            try? writer.appendClose(code: error.closeCode, reason: error.description, using: &rng)
        }
        writer.withUnsafeBytes { sendAll($0) }
        writer.removeAll()
        finished = decoder.isClosed || decoder.error != nil
    }
    return run
}

@Suite("WebSocket codec against peer servers", .serialized)
struct WebSocketInteropTests {
    static let fragmentedText = "Hello, fragmented world \u{2713}"
    static let ping = "ping-between-fragments"

    /// Runs `scenario` and returns the client's view and the server's report.
    func exchange(_ server: WebSocketPeerServer, _ scenario: String, maxMessageSize: Int = 128 * 1024) throws -> (InteropClientRun, [String: Any]) {
        let run = try runInteropClient(port: server.port, scenario: scenario, maxMessageSize: maxMessageSize)
        let report = try #require(try server.nextReport(timeout: 15), "no report from the server for \(scenario)")
        #expect(report["scenario"] as? String == scenario)
        #expect(report["error"] == nil, "server-side error: \(report["error"] ?? "")")
        return (run, report)
    }

    @Test("fragmented text with a ping between fragments, a 64-bit-length message, and close codes echoed both ways",
          arguments: ["websockets", "aiohttp"])
    func wellFormedExchanges(library: String) throws {
        let server = try WebSocketPeerServer(library: library)
        defer { server.stop() }

        let (fragmented, fragmentedReport) = try exchange(server, "fragmented")
        #expect(fragmented.error == nil)
        #expect(fragmented.pings == [Array(Self.ping.utf8)])
        #expect(fragmented.texts == [Array(Self.fragmentedText.utf8)])
        #expect(fragmented.serverClose?.code == 1000 && fragmented.serverClose?.reason == "done")
        #expect(fragmentedReport["pong"] as? String == Self.ping, "the server got our pong with its ping's payload")
        #expect(fragmentedReport["echo"] as? Bool == true, "the server got the reassembled text back")
        #expect(fragmentedReport["close_code"] as? Int == 1000)

        let (large, largeReport) = try exchange(server, "large")
        #expect(large.error == nil)
        #expect(large.texts.count == 1)
        #expect(large.texts.first == (0..<100_000).map { UInt8(0x61 + $0 % 26) })
        #expect(large.serverClose?.code == 1001 && large.serverClose?.reason == "", "a close code without a reason")
        #expect(largeReport["echo"] as? Bool == true)
        #expect(largeReport["close_code"] as? Int == 1001)
    }

    @Test("invalid UTF-8 in a text frame makes the client close with 1007, which the server receives",
          arguments: ["websockets", "aiohttp"])
    func invalidUTF8(library: String) throws {
        let server = try WebSocketPeerServer(library: library)
        defer { server.stop() }
        let (run, report) = try exchange(server, "invalid-utf8")
        #expect(run.texts.isEmpty)
        #expect(run.error?.rule == .invalidUTF8)
        #expect(run.sentClose == 1007)
        #expect(report["close_code"] as? Int == 1007)
    }

    @Test("a message over the client's limit makes it close with 1009, which the server receives",
          arguments: ["websockets", "aiohttp"])
    func oversize(library: String) throws {
        let server = try WebSocketPeerServer(library: library)
        defer { server.stop() }
        let (run, report) = try exchange(server, "oversize", maxMessageSize: 128 * 1024)
        #expect(run.error?.rule == .messageTooBig(length: 200_000, limit: 128 * 1024))
        #expect(run.sentClose == 1009)
        #expect(report["close_code"] as? Int == 1009)
    }
}
