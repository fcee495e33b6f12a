import SockeyeCore

/// How an echo session ended: what the one line the client prints says.
struct Ending {
    /// `close` (the server closed the WebSocket), `protocol_error` (the server broke
    /// RFC 6455 and the client failed the connection), `dropped` (TCP ended without a close
    /// frame), `timeout`, `handshake_error` or `io_error`.
    var kind: String
    /// The close code the server sent: a number, `empty` (a close frame with no code) or `-`.
    var received = "-"
    /// The close code the client sent back: a number, `empty`, or `-` when it sent none.
    var sent = "-"
    /// The broken rule or failure, `-` when there was none.
    var error = "-"
    /// Messages echoed.
    var echoed = 0

    /// The line printed: `key=value` fields a test can split.
    var line: String { "end=\(kind) received=\(received) sent=\(sent) error=\(error) echoed=\(echoed)" }
}

/// One WebSocket connection that echoes every message back, using only SockeyeCore's sans-IO
/// codec over a blocking socket: `WebSocketHandshake` for the upgrade,
/// `WebSocketFrameDecoder` for the server's frames and `WebSocketFrameWriter` for the
/// client's (masked) frames.
///
/// Text and binary messages go back as the same type; a ping is answered with a pong that
/// carries its payload; a pong is ignored. A close frame is answered with a close frame
/// echoing its code (an empty one for an empty one). A frame that breaks a rule fails the
/// connection with the close code the decoder gives (1002, 1007 or 1009). Either way the
/// client then waits (bounded) for the server to close the TCP connection, as RFC 6455
/// §7.1.1 asks of a client, and closes its own side.
struct EchoSession {
    let host: String
    let port: UInt16
    let target: String
    let maxMessageSize: Int
    let timeout: Duration

    /// Connects, upgrades and echoes until the connection ends; says how it ended.
    func run() -> Ending {
        var rng = SystemRandomNumberGenerator()
        let socket: BlockingSocket
        do {
            socket = try BlockingSocket(host: host, port: port, timeout: timeout)
        } catch {
            return Ending(kind: "io_error", error: "connect: \(error)".replacingSpaces)
        }
        defer { socket.close() }
        var ending = Ending(kind: "dropped")
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 * 1024, alignment: 16)
        defer { input.deallocate() }

        // The upgrade.
        let key = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var handshake = WebSocketHandshake(hostHeader: "\(host):\(port)", target: target, key: key)
        var leftover: UnsafeRawBufferPointer?
        do {
            try handshake.request.withUnsafeBytes { try socket.write($0) }
            while leftover == nil {
                guard case .bytes(let count) = try socket.read(into: input) else {
                    return Ending(kind: "handshake_error", error: "closed_before_answer")
                }
                let received = UnsafeRawBufferPointer(rebasing: input[..<count])
                do {
                    if let used = try handshake.receive(received) {
                        leftover = UnsafeRawBufferPointer(rebasing: received[used...])
                    }
                } catch {
                    return Ending(kind: "handshake_error", error: "\(error)".replacingSpaces)
                }
            }
        } catch {
            return Ending(kind: error.isTimeout ? "timeout" : "io_error", error: "\(error)".replacingSpaces)
        }

        // The echo loop.
        var decoder = WebSocketFrameDecoder(maxMessageSize: maxMessageSize)
        var writer = WebSocketFrameWriter()
        var closeSent = false
        do {
            var pending = leftover
            while true {
                let bytes: UnsafeRawBufferPointer
                if let held = pending {
                    bytes = held
                    pending = nil
                } else {
                    switch try socket.read(into: input) {
                    case .end:
                        if !decoder.isClosed { ending.kind = "dropped" }
                        return ending
                    case .bytes(let count):
                        bytes = UnsafeRawBufferPointer(rebasing: input[..<count])
                    }
                }
                var failure: WebSocketProtocolError?
                do {
                    try decoder.decode(bytes) { message in
                        switch message {
                        case .text(let payload):
                            writer.appendText(payload, using: &rng)
                            ending.echoed += 1
                        case .binary(let payload):
                            writer.appendBinary(payload, using: &rng)
                            ending.echoed += 1
                        case .ping(let payload):
                            // A decoded ping carries at most 125 bytes, so this cannot throw.
                            try? writer.appendPong(payload, using: &rng)
                        case .pong:
                            break
                        case .close(let code, _):
                            ending.kind = "close"
                            ending.received = code.map(String.init) ?? "empty"
                            // The decoder accepts only codes that may be sent: echoing one
                            // cannot throw (1005 writes the empty frame).
                            try? writer.appendClose(code: code ?? 1005, reason: "", using: &rng)
                            ending.sent = code.map(String.init) ?? "empty"
                            closeSent = true
                        }
                    }
                } catch {
                    failure = error
                }
                if let failure {
                    ending.kind = "protocol_error"
                    ending.error = failure.ruleName
                    try? writer.appendClose(code: failure.closeCode, reason: "", using: &rng)
                    ending.sent = String(failure.closeCode)
                    closeSent = true
                }
                try flush(&writer, to: socket)
                if closeSent {
                    awaitServerClose(socket, input)
                    return ending
                }
            }
        } catch {
            // The echoes written so far stay counted; the ending says what stopped them.
            if ending.kind != "close" { ending.kind = error.isTimeout ? "timeout" : "io_error" }
            ending.error = "\(error)".replacingSpaces
            return ending
        }
    }

    /// Writes every pending frame.
    private func flush(_ writer: inout WebSocketFrameWriter, to socket: BlockingSocket) throws {
        guard !writer.isEmpty else { return }
        try writer.withUnsafeBytes { try socket.write($0) }
        writer.removeAll()
    }

    /// After its close frame the client reads (and drops) what still comes until the server
    /// closes the TCP connection, or the timeout passes.
    private func awaitServerClose(_ socket: BlockingSocket, _ input: UnsafeMutableRawBufferPointer) {
        for _ in 0..<100_000 {
            guard case .bytes = try? socket.read(into: input) else { return }
        }
    }
}

extension WebSocketProtocolError {
    /// The rule's name without its details (`unknownOpcode`, `invalidUTF8` …).
    var ruleName: String {
        let text = "\(rule)"
        return String(text.prefix { $0 != "(" })
    }
}

extension Error {
    /// Whether this is a socket wait that ran out of time.
    var isTimeout: Bool {
        if case .timedOut = self as? BlockingSocket.Failure { return true }
        return false
    }
}

extension String {
    /// The text with spaces made underscores, so that it stays one `key=value` field.
    var replacingSpaces: String { String(map { $0 == " " ? "_" : $0 }) }
}
