import SockeyeCore
import Testing

@Suite("AckEncoder")
struct AckEncoderTests {
    @Test("an id-only ack is exactly {\"envelope_id\":\"…\"}")
    func idOnly() throws {
        let frame = try encodeAck(id: "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545").get()
        #expect(String(decoding: frame, as: UTF8.self) == #"{"envelope_id":"dbdd0ef3-1543-4f94-bfb4-133d0e6c1545"}"#)
    }

    @Test("a payload is copied as is, without surrounding whitespace")
    func payloadCopied() throws {
        let payload = #"{ "response_action": "errors", "errors": { "ml-block": "Too short" } }"#
        let frame = try encodeAck(id: "e1", payload: " \n\t" + payload + "\r\n ").get()
        #expect(String(decoding: frame, as: UTF8.self) == #"{"envelope_id":"e1","payload":"# + payload + "}")
    }

    @Test("an empty payload buffer means no payload")
    func emptyPayload() throws {
        let frame = try encodeAck(id: "e1", payload: "").get()
        #expect(String(decoding: frame, as: UTF8.self) == #"{"envelope_id":"e1"}"#)
    }

    @Test("quote, backslash and control characters in the id are escaped; other bytes are copied")
    func idEscaping() throws {
        let id: [UInt8] = Array("a\"b\\c/".utf8) + [0x08, 0x0C, 0x0A, 0x0D, 0x09, 0x00, 0x1F, 0x7F] + Array("é😀".utf8)
        let frame = try encodeAck(id: id, payload: nil).get()
        let expected = #"{"envelope_id":"a\"b\\c/\b\f\n\r\t\u0000\u001f"# + "\u{7F}é😀\"}"
        #expect(String(decoding: frame, as: UTF8.self) == expected)
        // And the ack scanner reads back the same id.
        let ack = try scanAck(frame).get()
        let decoded = frame.withUnsafeBytes { JSONStringDecoder.string(ack.envelopeID, in: $0) }
        #expect(decoded.map { Array($0.utf8) } == id)
    }

    @Test("the frame is written after the headroom and nothing before it is touched")
    func headroom() {
        var buffer = [UInt8](repeating: 0xEE, count: 64)
        let id = Array("e1".utf8)
        let length = buffer.withUnsafeMutableBytes { out in
            id.withUnsafeBytes { try? AckEncoder.encode(envelopeID: $0, payload: nil, into: out, headroom: 16) }
        }
        #expect(length == 20)
        #expect(buffer[0..<16].allSatisfy { $0 == 0xEE })
        #expect(String(decoding: buffer[16..<36], as: UTF8.self) == #"{"envelope_id":"e1"}"#)
        #expect(buffer[36...].allSatisfy { $0 == 0xEE })
    }

    @Test("a buffer one byte short of headroom plus frame is refused with the size needed")
    func bufferTooSmall() {
        // {"envelope_id":"e1"} is 20 bytes.
        #expect(encodeError(id: "e1", capacity: 36, headroom: 16) == nil)
        #expect(encodeError(id: "e1", capacity: 35, headroom: 16) == AckEncodingError.bufferTooSmall(required: 36))
    }

    @Test("a negative headroom is refused")
    func negativeHeadroom() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let id = Array("e1".utf8)
        let result = buffer.withUnsafeMutableBytes { out in
            id.withUnsafeBytes { idBytes in
                do throws(AckEncodingError) {
                    return try AckEncoder.encode(envelopeID: idBytes, payload: nil, into: out, headroom: -1) as Int?
                } catch {
                    return nil
                }
            }
        }
        #expect(result == nil)
    }

    @Test("ack of exactly 20480 bytes refused, 20479 accepted")
    func sizeLimit() throws {
        // {"envelope_id":"…"} is 18 bytes around the id.
        let accepted = try encodeAck(id: String(repeating: "a", count: 20_479 - 18)).get()
        #expect(accepted.count == 20_479)
        #expect(encodeError(id: String(repeating: "a", count: 20_480 - 18)) == AckEncodingError.tooLarge(length: 20_480))
        // With a payload: {"envelope_id":"e","payload":{"t":"…"}} is 38 bytes around the text.
        let withPayload = try encodeAck(id: "e", payload: #"{"t":""# + String(repeating: "x", count: 20_479 - 38) + #""}"#).get()
        #expect(withPayload.count == 20_479)
        #expect(encodeError(id: "e", payload: #"{"t":""# + String(repeating: "x", count: 20_480 - 38) + #""}"#) == AckEncodingError.tooLarge(length: 20_480))
    }

    @Test("the size limit counts the id after escaping")
    func sizeLimitCountsEscapes() {
        // 3 000 control characters take 6 bytes each once escaped: 18 018 bytes, under; 3 500 are over.
        #expect(encodeError(id: [UInt8](repeating: 0x01, count: 3_000), payload: nil) == nil)
        #expect(encodeError(id: [UInt8](repeating: 0x01, count: 3_500), payload: nil) == AckEncodingError.tooLarge(length: 18 + 3_500 * 6))
    }

    @Test("an empty envelope id is refused")
    func emptyID() {
        #expect(encodeError(id: "") == AckEncodingError.invalidEnvelopeID)
    }

    @Test(
        "an envelope id that is not UTF-8 is refused",
        arguments: [[0x80], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0x61, 0xE2, 0x82], [0xFF]] as [[UInt8]])
    func invalidUTF8ID(id: [UInt8]) {
        #expect(encodeError(id: id, payload: nil) == AckEncodingError.invalidEnvelopeID)
    }

    @Test(
        "a payload that is not one JSON object is refused with the scanner's error",
        arguments: [
            ("[]", ScanError(.notAnObject, at: 0)),
            (" \"x\"", ScanError(.notAnObject, at: 1)),
            ("{} {}", ScanError(.trailingData, at: 3)),
            ("{\"a\":}", ScanError(.unexpectedByte, at: 5)),
            ("{\"a\":1", ScanError(.unexpectedEnd, at: 6)),
            ("   ", ScanError(.unexpectedEnd, at: 3)),
        ])
    func invalidPayload(payload: String, error: ScanError) {
        #expect(encodeError(id: "e", payload: payload) == AckEncodingError.invalidPayload(error))
    }

    @Test("a payload nested to the depth limit inside the ack is accepted; one level more is refused")
    func payloadDepth() throws {
        // The payload object sits at depth 2 of the ack, so it may hold 126 more levels.
        let deepest = "{\"a\":" + nested(126) + "}"
        let frame = try encodeAck(id: "e", payload: deepest).get()
        #expect(throws: Never.self) { _ = try scanAck(frame).get() }
        let tooDeep = "{\"a\":" + nested(127) + "}"
        #expect(encodeError(id: "e", payload: tooDeep) == AckEncodingError.invalidPayload(ScanError(.depthExceeded, at: 5 + 126)))
    }

    @Test("every ack the encoder writes is read back by AckScanner with the same id and payload")
    func roundTrip() throws {
        let payload = #"{"text":"h\u00e9llo \ud83d\ude00","n":[1,2.5e3,null,true]}"#
        let frame = try encodeAck(id: "id-\u{1F600}-\"q\"", payload: payload).get()
        let ack = try scanAck(frame).get()
        frame.withUnsafeBytes { buffer in
            #expect(JSONStringDecoder.string(ack.envelopeID, in: buffer) == "id-\u{1F600}-\"q\"")
            #expect(String(decoding: ack.payload.bytes(in: buffer), as: UTF8.self) == payload)
        }
        #expect(!ack.hadDuplicateKey)
    }
}
