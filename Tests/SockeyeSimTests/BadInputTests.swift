import Foundation
import Testing
@testable import SockeyeSim

@Suite("Bad input: frame limit, garbage, binary")
struct BadInputTests {
    @Test("an ack frame of 20480 bytes or more is closed with 1009; others keep being served")
    func oversizeCloses() throws {
        let h = try Harness()
        let (big, _) = try h.connect()
        let (other, _) = try h.connect()
        big.sendText(#"{"envelope_id":"x","payload":{"text":""# + String(repeating: "a", count: 20_480) + #""}}"#)
        let close = try big.next()
        #expect(close.opcode == 0x8)
        #expect(TestWebSocket.closeCode(close) == 1009)
        #expect(close.text.contains("Max frame length of 20480 has been exceeded."))
        h.inject("message")
        let env = Harness.json(try other.next().text)
        #expect(env["type"] as? String == "events_api")
        #expect(h.report().total.oversizeFrames == 1)
    }

    @Test("the limit is exact: a 20479-byte ack is accepted, a 20480-byte one closes with 1009")
    func frameLimitBoundary() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        h.inject("slash_command")
        let id = try #require(Harness.json(try ws.next().text)["envelope_id"] as? String)
        func ack(totalBytes: Int) -> String {
            let head = #"{"envelope_id":"\#(id)","payload":{"text":""#
            let tail = #""}}"#
            return head + String(repeating: "x", count: totalBytes - head.utf8.count - tail.utf8.count) + tail
        }
        ws.sendText(ack(totalBytes: 20_479))
        let r = h.wait { $0.total.acked == 1 }
        #expect(r.total.acked == 1)
        #expect(r.total.responsePayloads == 1)
        ws.sendText(ack(totalBytes: 20_480))
        let close = try ws.next(timeout: 3)
        #expect(close.opcode == 0x8)
        #expect(TestWebSocket.closeCode(close) == 1009)
    }

    @Test("oversize fragmented message counts once; in drop mode the connection stays open")
    func oversizeDrop() throws {
        let h = try Harness { $0.oversize = .drop }
        let (ws, _) = try h.connect()
        ws.sendFrame(opcode: 0x1, Array(repeating: 0x61, count: 15_000), fin: false)
        ws.sendFrame(opcode: 0x0, Array(repeating: 0x61, count: 15_000), fin: true)
        ws.sendFrame(opcode: 0x9, Array("still-here".utf8))
        #expect(try ws.next().text == "still-here")
        #expect(h.report().total.oversizeFrames == 1)
    }

    @Test("garbage text, non-ack JSON and binary frames are counted, not fatal; fragmented acks are reassembled")
    func garbage() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        ws.sendText("this is not json {{{")
        ws.sendText(#"{"hello":"world"}"#)
        ws.sendFrame(opcode: 0x2, [1, 2, 3])
        h.inject("message")
        let id = Harness.json(try ws.next().text)["envelope_id"] as? String ?? ""
        let ack = Array(#"{"envelope_id":"\#(id)"}"#.utf8)
        ws.sendFrame(opcode: 0x1, Array(ack[..<10]), fin: false)
        ws.sendFrame(opcode: 0x0, Array(ack[10...]), fin: true)
        let r = h.wait { $0.total.acked == 1 }
        #expect(r.total.malformedFrames == 1)
        #expect(r.total.nonAckFrames == 1)
        #expect(r.total.binaryFrames == 1)
        #expect(r.total.acked == 1)
    }

    @Test("invalid UTF-8 in a text frame closes with 1007; an unmasked client frame is tolerated (libwebsockets) and counted")
    func protocolErrors() throws {
        let h = try Harness()
        let (bad, _) = try h.connect()
        bad.sendFrame(opcode: 0x1, [0x7B, 0xC3, 0x28, 0x7D])
        let close = try bad.next(timeout: 3)
        #expect(close.opcode == 0x8)
        #expect(TestWebSocket.closeCode(close) == 1007)
        let (unmasked, _) = try h.connect()
        unmasked.sendAll([0x81, 0x02, 0x7B, 0x7D])
        let r = h.wait { $0.total.nonAckFrames == 1 }
        #expect(r.total.nonAckFrames == 1)
        let (ok, _) = try h.connect()
        h.inject("message", count: 2)  // round robin: one each to `unmasked` and `ok`
        #expect(Harness.json(try ok.next().text)["type"] as? String == "events_api")
    }

    @Test("a client that connects and sends nothing (no handshake) is timed out; a silent WebSocket client just gets retries")
    func silentClients() throws {
        let h = try Harness { $0.ackDeadline = 0.2; $0.retryDelays = [0] }
        let fd = try TestWebSocket.tcp(port: h.port)
        defer { close(fd) }
        let (ws, _) = try h.connect()
        h.inject("message")
        let first = Harness.json(try ws.next().text)
        let retry = Harness.json(try ws.next(timeout: 2).text)
        #expect(retry["retry_attempt"] as? Int == 1)
        #expect(first["envelope_id"] as? String != retry["envelope_id"] as? String)
        let r = h.wait { $0.total.failedAfterRetries == 1 }
        #expect(r.total.failedAfterRetries == 1)
        // lws drops the idle half-made connection after its handshake timeout (5 s).
        var tv = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var byte: UInt8 = 0
        #expect(recv(fd, &byte, 1, 0) <= 0)
    }

    @Test("a non-HTTP byte stream on the port does not disturb other clients")
    func rawGarbage() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let fd = try TestWebSocket.tcp(port: h.port)
        let junk = [UInt8](repeating: 0xFF, count: 4096)
        _ = junk.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        close(fd)
        h.inject("message")
        #expect(Harness.json(try ws.next().text)["type"] as? String == "events_api")
    }
}
