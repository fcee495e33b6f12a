// @testable: AckMessage's initializer is internal (the pool makes acks).
@testable import SockeyeCore
import Testing

@Suite("WebSocketFrameWriter")
struct WebSocketFrameWriterTests {
    func pending(_ writer: WebSocketFrameWriter) -> [UInt8] {
        writer.withUnsafeBytes { Array($0) }
    }

    @Test("frames are masked, FIN set, with the minimal 7/16/64-bit length, and unmask to the payload")
    func framing() {
        var writer = WebSocketFrameWriter(initialCapacity: 16)
        var rng = SplitMix64(seed: 1)
        let sizes = [0, 1, 7, 8, 9, 31, 32, 33, 125, 126, 65_535, 65_536, 70_001]
        for size in sizes {
            patternBytes(size).withUnsafeBytes { writer.appendBinary($0, using: &rng) }
        }
        let frames = parseClientFrames(pending(writer))
        #expect(frames.count == sizes.count)
        for (frame, size) in zip(frames, sizes) {
            #expect(frame.fin && frame.opcode == 0x2 && frame.minimalLength, "\(size) bytes")
            #expect(frame.payload == patternBytes(size), "\(size) bytes")
        }
    }

    @Test("a round trip writer -> unmask -> decoder gives back the messages")
    func roundTrip() {
        var writer = WebSocketFrameWriter()
        var rng = SplitMix64(seed: 2)
        let texts = ["", "hello", String(repeating: "ü", count: 100), String(repeating: "x", count: 70_000)]
        for text in texts {
            Array(text.utf8).withUnsafeBytes { writer.appendText($0, using: &rng) }
        }
        let ping: [UInt8] = [1, 2, 3]
        #expect(throws: Never.self) {
            try ping.withUnsafeBytes { try writer.appendPing($0, using: &rng) }
        }
        // Re-frame what the client wrote as a server would (unmasked), then decode it.
        let server = parseClientFrames(pending(writer)).flatMap { serverFrame($0.opcode, $0.payload, fin: $0.fin) }
        let result = decodeChunks([server])
        #expect(result.error == nil)
        #expect(result.messages == texts.map { Decoded.text($0) } + [.ping([1, 2, 3])])
    }

    @Test("every frame gets a fresh mask key from the generator")
    func masksDiffer() {
        var writer = WebSocketFrameWriter()
        var rng = SplitMix64(seed: 3)
        for _ in 0..<100 { [0x61, 0x62].withUnsafeBytes { writer.appendText($0, using: &rng) } }
        let keys = parseClientFrames(pending(writer)).map(\.maskKey)
        #expect(keys.count == 100)
        #expect(Set(keys).count == 100)
        // The key is not left as zeros, so the payload on the wire differs from the text.
        #expect(keys.allSatisfy { $0 != [0, 0, 0, 0] })
    }

    @Test("N appendAck calls produce N valid masked text frames back to back")
    func coalescedAcks() throws {
        var writer = WebSocketFrameWriter(initialCapacity: 0)
        var rng = SplitMix64(seed: 4)
        var expected: [String] = []
        for i in 0..<200 {
            let id = "env-\(i)-" + String(repeating: "z", count: i % 50)
            try writer.appendAck(AckMessage(envelopeID: EnvelopeID(id), payload: nil), using: &rng)
            expected.append(#"{"envelope_id":"\#(id)"}"#)
        }
        // One ack over 125 bytes takes the 16-bit length; one with a payload.
        let bigPayload = Array((#"{"text":""# + String(repeating: "y", count: 300) + #""}"#).utf8)
        try writer.appendAck(AckMessage(envelopeID: EnvelopeID("big"), payload: bigPayload), using: &rng)
        expected.append(#"{"envelope_id":"big","payload":"# + String(decoding: bigPayload, as: UTF8.self) + "}")
        let frames = parseClientFrames(pending(writer))
        #expect(frames.count == expected.count)
        #expect(frames.allSatisfy { $0.fin && $0.opcode == 0x1 && $0.minimalLength })
        #expect(frames.map { String(decoding: $0.payload, as: UTF8.self) } == expected)
        #expect(Set(frames.map(\.maskKey)).count == frames.count)
    }

    @Test("an ack that cannot be encoded appends nothing")
    func ackErrorAppendsNothing() throws {
        var writer = WebSocketFrameWriter()
        var rng = SplitMix64(seed: 5)
        try writer.appendAck(AckMessage(envelopeID: EnvelopeID("a"), payload: nil), using: &rng)
        let before = pending(writer)
        let huge = Array((#"{"t":""# + String(repeating: "q", count: 20_480) + #""}"#).utf8)
        #expect(throws: AckEncodingError.self) {
            try writer.appendAck(AckMessage(envelopeID: EnvelopeID("b"), payload: huge), using: &rng)
        }
        #expect(throws: AckEncodingError.self) {
            try writer.appendAck(AckMessage(envelopeID: EnvelopeID("c"), payload: Array("[1]".utf8)), using: &rng)
        }
        #expect(pending(writer) == before)
    }

    @Test("partial writes: removeFirst drops exactly what was written and keeps the rest in order")
    func partialWrites() {
        var writer = WebSocketFrameWriter(initialCapacity: 64)
        var rng = SplitMix64(seed: 6)
        var written: [UInt8] = []
        for round in 0..<40 {
            asciiText(round * 3 + 1).withUnsafeBytes { writer.appendText($0, using: &rng) }
            let now = pending(writer)
            // Write a prime-sized piece each round.
            let n = min(writer.count, 13)
            written += now[..<n]
            writer.removeFirst(n)
        }
        written += pending(writer)
        writer.removeAll()
        #expect(writer.isEmpty && writer.count == 0)
        let frames = parseClientFrames(written)
        #expect(frames.map(\.payload) == (0..<40).map { asciiText($0 * 3 + 1) })
    }

    @Test("a ping or pong over 125 bytes is refused and nothing is appended")
    func controlLimit() {
        var writer = WebSocketFrameWriter()
        var rng = SplitMix64(seed: 7)
        #expect(throws: WebSocketWriteError.controlPayloadTooLong(length: 126)) {
            try patternBytes(126).withUnsafeBytes { try writer.appendPing($0, using: &rng) }
        }
        #expect(throws: WebSocketWriteError.controlPayloadTooLong(length: 200)) {
            try patternBytes(200).withUnsafeBytes { try writer.appendPong($0, using: &rng) }
        }
        #expect(writer.isEmpty)
        #expect(throws: Never.self) {
            try patternBytes(125).withUnsafeBytes { try writer.appendPong($0, using: &rng) }
        }
        #expect(parseClientFrames(pending(writer)).map(\.opcode) == [0xA])
    }

    @Test("a close frame carries the code and reason; the reason is cut to 123 bytes at a character boundary")
    func closeFrames() throws {
        var writer = WebSocketFrameWriter()
        var rng = SplitMix64(seed: 8)
        try writer.appendClose(code: 1000, reason: "bye", using: &rng)
        try writer.appendClose(code: 1009, reason: String(repeating: "é", count: 100), using: &rng)
        try writer.appendClose(code: 1005, reason: "ignored", using: &rng)
        #expect(throws: WebSocketWriteError.invalidCloseCode(1006)) { try writer.appendClose(code: 1006, reason: "", using: &rng) }
        let frames = parseClientFrames(pending(writer))
        #expect(frames.map(\.opcode) == [0x8, 0x8, 0x8])
        #expect(frames[0].payload == closePayload(1000, "bye"))
        #expect(frames[1].payload == closePayload(1009, String(repeating: "é", count: 61)))
        #expect(frames[2].payload.isEmpty)
    }
}
