import SockeyeCore
import Testing

@Suite("AckScanner")
struct AckScannerTests {
    func ackError(_ text: String, options: ScanOptions = .default) -> ScanError? {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { buffer in
            do throws(ScanError) {
                _ = try AckScanner.scan(buffer, options: options)
                return nil
            } catch {
                return error
            }
        }
    }

    @Test("an id-only ack gives the id and no payload")
    func idOnly() throws {
        let text = #"{ "envelope_id": "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545" }"#
        let bytes = Array(text.utf8)
        let ack = try scanAck(bytes).get()
        bytes.withUnsafeBytes { buffer in
            #expect(JSONStringDecoder.string(ack.envelopeID, in: buffer) == "dbdd0ef3-1543-4f94-bfb4-133d0e6c1545")
        }
        #expect(ack.envelopeID.offset == 18)
        #expect(!ack.payload.isPresent && !ack.hadDuplicateKey)
    }

    @Test("an ack with a response payload gives the payload's raw bytes")
    func withPayload() throws {
        let payload = #"{ "response_action": "errors", "errors": { "ml-block": "Too short" } }"#
        let bytes = Array((#"{ "envelope_id": "e1",  "payload": "# + payload + " }").utf8)
        let ack = try scanAck(bytes).get()
        #expect(String(decoding: bytes[ack.payload.offset..<ack.payload.endOffset], as: UTF8.self) == payload)
    }

    @Test("Node's always-present empty payload and unknown members are accepted")
    func emptyPayloadAndExtras() throws {
        let ack = try scanAck(Array(#"{"payload":{},"x":[1,{"y":null}],"envelope_id":"e"}"#.utf8)).get()
        #expect(ack.payload.length == 2 && ack.envelopeID.length == 1)
    }

    @Test("an escaped envelope_id key and value are read")
    func escaped() throws {
        let bytes = Array(#"{"envelope\u005fid":"a\u0062c"}"#.utf8)
        let ack = try scanAck(bytes).get()
        #expect(ack.envelopeID.isEscaped)
        bytes.withUnsafeBytes { #expect(JSONStringDecoder.string(ack.envelopeID, in: $0) == "abc") }
    }

    @Test("duplicate envelope_id or payload: the last wins and the flag is set")
    func duplicates() throws {
        let bytes = Array(#"{"envelope_id":"a","payload":{"n":1},"envelope_id":"b","payload":{"n":2}}"#.utf8)
        let ack = try scanAck(bytes).get()
        #expect(ack.hadDuplicateKey)
        #expect(String(decoding: bytes[ack.envelopeID.offset..<ack.envelopeID.endOffset], as: UTF8.self) == "b")
        #expect(String(decoding: bytes[ack.payload.offset..<ack.payload.endOffset], as: UTF8.self) == #"{"n":2}"#)
        #expect(try scanAck(Array(#"{"envelope_id":1,"envelope_id":"b"}"#.utf8)).get().hadDuplicateKey)
    }

    @Test(
        "errors: missing or mistyped id, not an object, syntax, limits",
        arguments: [
            (#"{"payload":{}}"#, ScanError(.missingEnvelopeID, at: 0)),
            (#" {}"#, ScanError(.missingEnvelopeID, at: 1)),
            (#"{"envelope_id":7}"#, ScanError(.fieldType, at: 15)),
            (#"{"envelope_id":"a","envelope_id":null}"#, ScanError(.fieldType, at: 33)),
            (#"["envelope_id"]"#, ScanError(.notAnObject, at: 0)),
            (#"{"envelope_id":"a",}"#, ScanError(.unexpectedByte, at: 19)),
            (#"{"envelope_id":"a"} {}"#, ScanError(.trailingData, at: 20)),
            (#"{"envelope_id":"a""#, ScanError(.unexpectedEnd, at: 18)),
            (#"{"envelope_id":7,"x":tru}"#, ScanError(.unexpectedByte, at: 24)),
            ("", ScanError(.unexpectedEnd, at: 0)),
        ])
    func errors(frame: String, error: ScanError) {
        #expect(ackError(frame) == error)
    }

    @Test("the ack scanner applies the frame size and depth limits")
    func limits() {
        let options = ScanOptions(maxFrameSize: 20, maxDepth: 2)
        #expect(ackError(#"{"envelope_id":"ab"}"#, options: options) == nil)
        #expect(ackError(#"{"envelope_id":"abc"}"#, options: options) == ScanError(.frameTooLarge, at: 20))
        #expect(ackError(#"{"envelope_id":"a","payload":[[]]}"#, options: ScanOptions(maxFrameSize: 100, maxDepth: 2)) == ScanError(.depthExceeded, at: 30))
    }
}

@Suite("JSONStringDecoder")
struct JSONStringDecoderTests {
    func decode(_ raw: String, capacity: Int? = nil) -> [UInt8]? {
        let input = Array(raw.utf8)
        var output = [UInt8](repeating: 0, count: capacity ?? input.count)
        let length = input.withUnsafeBytes { i in output.withUnsafeMutableBytes { JSONStringDecoder.decode(i, into: $0) } }
        return length.map { Array(output[0..<$0]) }
    }

    @Test("the short escapes decode to their characters")
    func shortEscapes() {
        #expect(decode(#"\"\\\/\b\f\n\r\t"#) == [0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09])
    }

    @Test("\\u escapes decode to UTF-8 of 1, 2 and 3 bytes, and NUL")
    func unicodeEscapes() {
        #expect(decode(#"\u0041\u00e9\u4E2D\u0000\uFFFF"#) == Array("Aé中\u{0}\u{FFFF}".utf8))
    }

    @Test("a surrogate pair decodes to one 4-byte scalar")
    func surrogatePair() {
        #expect(decode(#"\ud83d\ude00\uDBFF\uDFFF"#) == Array("😀\u{10FFFF}".utf8))
    }

    @Test("raw UTF-8 is copied unchanged")
    func rawCopied() {
        #expect(decode("héllo 😀 中") == Array("héllo 😀 中".utf8))
    }

    @Test("an output one byte too small gives nil; the exact size succeeds")
    func outputTooSmall() {
        #expect(decode(#"ab\u00e9"#, capacity: 4) == Array("abé".utf8))
        #expect(decode(#"ab\u00e9"#, capacity: 3) == nil)
        #expect(decode("abc", capacity: 2) == nil)
        #expect(decode("", capacity: 0) == [])
    }

    @Test("string(_:in:) decodes escaped views, copies plain ones and is nil for absent views")
    func stringHelper() {
        let bytes = Array(#"x\u0041\n"#.utf8)
        bytes.withUnsafeBytes { buffer in
            #expect(JSONStringDecoder.string(ByteView(offset: 1, length: 8, isEscaped: true), in: buffer) == "A\n")
            #expect(JSONStringDecoder.string(ByteView(offset: 0, length: 1), in: buffer) == "x")
            #expect(JSONStringDecoder.string(.absent, in: buffer) == nil)
            #expect(JSONStringDecoder.string(ByteView(offset: 9, length: 0, isEscaped: true), in: buffer) == "")
        }
    }

    @Test("ByteView reports offset, length, end and flags")
    func byteView() {
        let view = ByteView(offset: 3, length: 4, isEscaped: true)
        #expect(view.offset == 3 && view.length == 4 && view.endOffset == 7 && view.isPresent && view.isEscaped)
        #expect(!ByteView.absent.isPresent && !ByteView(offset: 0, length: 0).isEscaped)
    }
}
