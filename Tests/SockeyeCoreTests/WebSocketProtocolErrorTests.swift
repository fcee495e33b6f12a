import SockeyeCore
import Testing

@Suite("WebSocketFrameDecoder protocol errors")
struct WebSocketProtocolErrorTests {
    @Test("RSV bits without a negotiated extension fail with 1002")
    func reservedBits() {
        for rsv: UInt8 in [1, 2, 4, 7] {
            let error = brokenRule(serverFrame(0x1, Array("x".utf8), rsv: rsv))
            #expect(error?.rule == .reservedBitsSet && error?.closeCode == 1002, "rsv \(rsv)")
        }
    }

    @Test("every undefined opcode fails with 1002")
    func unknownOpcodes() {
        for opcode: UInt8 in [3, 4, 5, 6, 7, 11, 12, 13, 14, 15] {
            let error = brokenRule(serverFrame(opcode, [0]))
            #expect(error?.rule == .unknownOpcode(opcode) && error?.closeCode == 1002)
        }
    }

    @Test("a masked frame from the server fails with 1002")
    func maskedFrame() {
        let error = brokenRule(serverFrame(0x1, Array("hi".utf8), mask: [1, 2, 3, 4]))
        #expect(error?.rule == .maskedFrame && error?.closeCode == 1002)
        #expect(error?.description == "masked frame from server")
    }

    @Test("a control frame over 125 bytes fails with 1002, even with the length written long")
    func controlTooLong() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let error = brokenRule(serverFrame(opcode, patternBytes(126)))
            #expect(error?.rule == .controlFrameTooLong(126) && error?.closeCode == 1002)
        }
        #expect(brokenRule(serverFrame(0x9, patternBytes(125))) == nil)
    }

    @Test("a fragmented control frame fails with 1002")
    func fragmentedControl() {
        for opcode: UInt8 in [0x8, 0x9, 0xA] {
            let error = brokenRule(serverFrame(opcode, [], fin: false))
            #expect(error?.rule == .fragmentedControlFrame && error?.closeCode == 1002)
        }
    }

    @Test("a continuation with no message in progress fails with 1002")
    func strayContinuation() {
        #expect(brokenRule(serverFrame(0x0, Array("x".utf8)))?.rule == .unexpectedContinuation)
        // Also right after a finished message.
        let error = brokenRule(serverFrame(0x1, "done") + serverFrame(0x0, "more"))
        #expect(error?.rule == .unexpectedContinuation && error?.closeCode == 1002)
    }

    @Test("a new text or binary frame while a fragmented message is in progress fails with 1002")
    func interleavedDataFrames() {
        for opcode: UInt8 in [0x1, 0x2] {
            let error = brokenRule(serverFrame(0x1, "part", fin: false) + serverFrame(opcode, "new"))
            #expect(error?.rule == .expectedContinuation && error?.closeCode == 1002)
        }
    }

    @Test("a 64-bit length with its top bit set fails with 1002 as soon as that byte arrives")
    func lengthTopBit() {
        let header: [UInt8] = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 1]
        #expect(brokenRule(header)?.rule == .lengthTopBitSet)
        // The third byte is enough.
        #expect(decodeChunks([Array(header[..<3])]).error?.rule == .lengthTopBitSet)
    }

    @Test("a message over maxMessageSize fails with 1009 once its header is read, before the payload arrives")
    func oversizeDeclared() {
        // A 64-bit header announcing 1 GiB, with no payload behind it.
        var header: [UInt8] = [0x82, 127]
        let length: UInt64 = 1 << 30
        for shift in stride(from: 56, through: 0, by: -8) { header.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        let error = decodeChunks([header], maxMessageSize: 1 << 20).error
        #expect(error?.rule == .messageTooBig(length: 1 << 30, limit: 1 << 20))
        #expect(error?.closeCode == 1009)
        // One byte over the limit, unfragmented.
        #expect(brokenRule(serverFrame(0x1, asciiText(101)), maxMessageSize: 100)?.closeCode == 1009)
    }

    @Test("fragments whose total passes maxMessageSize fail with 1009 at the fragment that passes it")
    func oversizeFragmented() {
        let first = serverFrame(0x2, patternBytes(60), fin: false)
        let second = serverFrame(0x0, patternBytes(41))
        let result = decodeChunks([first, Array(second[..<2])], maxMessageSize: 100)
        #expect(result.error?.rule == .messageTooBig(length: 101, limit: 100))
        #expect(result.error?.closeCode == 1009)
    }

    @Test("invalid UTF-8 in a text message fails with 1007")
    func invalidText() {
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x61, 0xE2, 0x82]] {
            let error = brokenRule(serverFrame(0x1, bad))
            #expect(error?.rule == .invalidUTF8 && error?.closeCode == 1007, "\(bad)")
        }
        // Binary messages carry any bytes.
        #expect(brokenRule(serverFrame(0x2, [0xFF, 0xC0])) == nil)
    }

    @Test("invalid UTF-8 in a fragmented text message fails at the first fragment that carries it")
    func invalidTextEarly() {
        let first = serverFrame(0x1, [0x61, 0xC0], fin: false)
        let result = decodeChunks([first])
        #expect(result.error?.rule == .invalidUTF8 && result.error?.closeCode == 1007)
        // An unfinished sequence at the end of the message is caught at the last fragment.
        let unfinished = serverFrame(0x1, [0x61, 0xE2], fin: false) + serverFrame(0x0, [0x82])
        #expect(brokenRule(unfinished)?.rule == .invalidUTF8)
    }

    @Test("with unfragmented text left to the caller, a whole bad text frame is delivered as is; fragments are still checked")
    func uncheckedUnfragmentedText() {
        var decoder = WebSocketFrameDecoder(checksUnfragmentedText: false)
        let whole = feedDecoder([serverFrame(0x1, [0x61, 0xFF])], to: &decoder)
        #expect(whole.error == nil && whole.messages == [.text([0x61, 0xFF])])
        var fragmented = WebSocketFrameDecoder(checksUnfragmentedText: false)
        let result = feedDecoder([serverFrame(0x1, [0x61, 0xC0], fin: false)], to: &fragmented)
        #expect(result.error?.rule == .invalidUTF8 && result.error?.closeCode == 1007)
    }

    @Test("the envelope scanner refuses bad UTF-8 anywhere in a frame, so it can stand in for the decoder's text check")
    func scannerCatchesBadUTF8Everywhere() {
        let prefix = Array(#"{"envelope_id":"e1","type":"events_api","payload":{"event":{"blocks":[{"text":"ok "#.utf8)
        let suffix = Array(#""}]},"team_id":"T1","event_id":"Ev1"}}"#.utf8)
        for bad: [UInt8] in [[0xFF], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            let frame = prefix + bad + suffix
            let scanned = frame.withUnsafeBytes { bytes in Result { try EnvelopeScanner.scan(bytes) } }
            #expect(throws: (any Error).self, "\(bad)") { try scanned.get() }
            #expect(!frame.withUnsafeBytes { WebSocketUTF8.isValid($0) })
        }
        let good = prefix + Array("café 🐟".utf8) + suffix
        #expect(throws: Never.self) { try good.withUnsafeBytes { try EnvelopeScanner.scan($0) } }
    }

    @Test("a close frame with a 1-byte payload fails with 1002")
    func closeOneByte() {
        let error = brokenRule(serverFrame(0x8, [0x03]))
        #expect(error?.rule == .closePayloadTooShort && error?.closeCode == 1002)
    }

    @Test("close codes that must not be sent fail with 1002; the others are accepted")
    func closeCodes() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535] {
            let error = brokenRule(serverFrame(0x8, closePayload(code)))
            #expect(error?.rule == .invalidCloseCode(code) && error?.closeCode == 1002, "code \(code)")
        }
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999] {
            #expect(decodeChunks([serverFrame(0x8, closePayload(code))]).messages == [.close(code, [])], "code \(code)")
        }
    }

    @Test("a close reason that is not UTF-8 fails with 1007")
    func closeReasonNotUTF8() {
        let error = brokenRule(serverFrame(0x8, closePayload(1000) + [0xC3]))
        #expect(error?.rule == .invalidCloseReason && error?.closeCode == 1007)
    }

    @Test("after an error the decoder is finished: every later call throws the same error")
    func finishedAfterError() {
        var decoder = WebSocketFrameDecoder()
        let first = feedDecoder([serverFrame(0x1, "ok") + serverFrame(0x3, [])], to: &decoder)
        #expect(first.messages == [.text("ok")])
        #expect(first.error?.rule == .unknownOpcode(3))
        let second = feedDecoder([serverFrame(0x1, "valid")], to: &decoder)
        #expect(second.messages.isEmpty)
        #expect(second.error == first.error)
        #expect(decoder.error == first.error)
    }
}
