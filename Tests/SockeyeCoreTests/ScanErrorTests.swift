import SockeyeCore
import Testing

/// Every `ScanError` kind, with its exact offset.
@Suite("ScanError kinds and offsets")
struct ScanErrorTests {
    @Test(
        "syntax errors are reported at the offending byte",
        arguments: [
            // unexpected_end: at the frame's length.
            (#"{"type":"hello""#, ScanError(.unexpectedEnd, at: 15)),
            (#"{"type":"hel"#, ScanError(.unexpectedEnd, at: 12)),
            (#"{"a":tr"#, ScanError(.unexpectedEnd, at: 7)),
            (#"{"a":-"#, ScanError(.unexpectedEnd, at: 6)),
            (#"{"a":"\u00"#, ScanError(.unexpectedEnd, at: 10)),
            ("   ", ScanError(.unexpectedEnd, at: 3)),
            // unexpected_byte.
            (#"{"type":"hello",}"#, ScanError(.unexpectedByte, at: 16)),
            (#"{"type" "hello"}"#, ScanError(.unexpectedByte, at: 8)),
            ("{'type':1}", ScanError(.unexpectedByte, at: 1)),
            (#"{"a":[1 2]}"#, ScanError(.unexpectedByte, at: 8)),
            (#"{"a":[1,]}"#, ScanError(.unexpectedByte, at: 8)),
            (#"{"a":1]"#, ScanError(.unexpectedByte, at: 6)),
            (#"{"a":trux}"#, ScanError(.unexpectedByte, at: 8)),
            (#"{"a":nul}"#, ScanError(.unexpectedByte, at: 8)),
            (#"{"a":01}"#, ScanError(.unexpectedByte, at: 6)),
            (#"{"a":.5}"#, ScanError(.unexpectedByte, at: 5)),
            (#"{"a":+1}"#, ScanError(.unexpectedByte, at: 5)),
            (#"{,}"#, ScanError(.unexpectedByte, at: 1)),
            // invalid_number: at the byte where a digit was required.
            (#"{"a":-}"#, ScanError(.invalidNumber, at: 6)),
            (#"{"a":-a}"#, ScanError(.invalidNumber, at: 6)),
            (#"{"a":1.}"#, ScanError(.invalidNumber, at: 7)),
            (#"{"a":1.e5}"#, ScanError(.invalidNumber, at: 7)),
            (#"{"a":1e}"#, ScanError(.invalidNumber, at: 7)),
            (#"{"a":1e+}"#, ScanError(.invalidNumber, at: 8)),
            // invalid_escape: at the backslash.
            (#"{"a":"x\q"}"#, ScanError(.invalidEscape, at: 7)),
            (#"{"a":"\u12G4"}"#, ScanError(.invalidEscape, at: 6)),
            (#"{"a":"\U0041"}"#, ScanError(.invalidEscape, at: 6)),
            (#"{"a":"\u12"}"#, ScanError(.invalidEscape, at: 6)),
            // lone_surrogate: at the (first) escape.
            (#"{"a":"\uDC00"}"#, ScanError(.loneSurrogate, at: 6)),
            (#"{"a":"x\uD800y"}"#, ScanError(.loneSurrogate, at: 7)),
            (#"{"a":"\uD800\u0041"}"#, ScanError(.loneSurrogate, at: 6)),
            (#"{"a":"\uD800\n"}"#, ScanError(.loneSurrogate, at: 6)),
            (#"{"a":"\uD800\uD800"}"#, ScanError(.loneSurrogate, at: 6)),
            (#"{"a":"\uD800"}"#, ScanError(.loneSurrogate, at: 6)),
            // trailing_data: at the first byte after the value and its whitespace.
            (#"{"type":"hello"} x"#, ScanError(.trailingData, at: 17)),
            ("{}{}", ScanError(.trailingData, at: 2)),
            ("{} ,", ScanError(.trailingData, at: 3)),
        ])
    func syntaxErrors(frame: String, error: ScanError) {
        #expect(scanError(frame) == error)
        #expect(error.kind.isSyntax)
    }

    @Test("an empty frame ends at byte 0")
    func emptyFrame() {
        #expect(scanError([UInt8]()) == ScanError(.unexpectedEnd, at: 0))
    }

    @Test(
        "malformed UTF-8 is refused at the sequence's first byte",
        arguments: [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xFE], [0x80], [0xBF],
            [0xC3, 0x28], [0xE2, 0x82, 0x28], [0xF0, 0x9F, 0x98, 0x41], [0xE2, 0x82],
        ] as [[UInt8]])
    func invalidUTF8(sequence: [UInt8]) {
        // {"a":"x<sequence>"}: the sequence starts at byte 7.
        let frame = Array(#"{"a":"x"#.utf8) + sequence + Array(#""}"#.utf8)
        #expect(scanError(frame) == ScanError(.invalidUTF8, at: 7))
    }

    @Test(
        "the UTF-8 boundary code points are accepted",
        arguments: [
            [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xEF, 0xBF, 0xBF],
            [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0x7F],
        ] as [[UInt8]])
    func validUTF8(sequence: [UInt8]) throws {
        let frame = Array(#"{"type":"x"#.utf8) + sequence + Array(#""}"#.utf8)
        let scanned = try scan(frame)
        #expect(Array(scanned.bytes[scanned.envelope.type.offset..<scanned.envelope.type.endOffset]) == [0x78] + sequence)
    }

    @Test("a lone high surrogate whose string closes on the frame's last byte is a lone surrogate, not an early end")
    func loneSurrogateBeforeLastByte() {
        // Only one byte (the closing quote) follows the escape: it is visibly not a `\u`.
        #expect(scanError(#""\uD800""#) == ScanError(.loneSurrogate, at: 1))
        #expect(scanError(#"{"a":"\uD800""#) == ScanError(.loneSurrogate, at: 6))
        #expect(scanError(#"{"a":"\uD800x"#) == ScanError(.loneSurrogate, at: 6))
        // A backslash as the last byte could still begin the low half: the frame just ended.
        #expect(scanError(#"{"a":"\uD800\"#) == ScanError(.unexpectedEnd, at: 13))
        #expect(scanError(#"{"a":"\uD800"#) == ScanError(.unexpectedEnd, at: 12))
    }

    @Test("lone low surrogate is refused at the escape's offset")
    func loneLowSurrogate() {
        #expect(scanError(#"{"type":"hello","x":"ab\uDFFF"}"#) == ScanError(.loneSurrogate, at: 23))
        #expect(scanError(#"{"type":"hello","x":"\udc00\ud800"}"#) == ScanError(.loneSurrogate, at: 21))
    }

    @Test("a surrogate pair in a key or value is accepted, in either hex case")
    func surrogatePairs() throws {
        let s = try scan(#"{"type":"\uD83D\uDE00","\ud83d\ude00":"\uDBFF\uDFFF"}"#)
        #expect(s.string(s.envelope.type) == "\u{1F600}")
    }

    @Test("every valid number form is accepted, in any member")
    func validNumbers() {
        for number in ["0", "-0", "-0.0", "0e0", "0E+0", "1e-0", "-1.5E+10", "123456789.000", "1E400", "-1e-400", "99999999999999999999"] {
            #expect(scanError(#"{"type":"hello","x":"# + number + "}") == nil, "\(number)")
        }
    }

    @Test("a byte order mark before the object is refused")
    func byteOrderMark() {
        #expect(scanError([0xEF, 0xBB, 0xBF] + Array(#"{"type":"hello"}"#.utf8)) == ScanError(.unexpectedByte, at: 0))
    }

    @Test("a raw NUL byte is refused outside and inside strings")
    func rawNUL() {
        #expect(scanError(Array(#"{"type":"hello","x":1"#.utf8) + [0] + [0x7D]) == ScanError(.unexpectedByte, at: 21))
        #expect(scanError(Array(#"{"type":"hello"}"#.utf8) + [0]) == ScanError(.trailingData, at: 16))
        #expect(scanError(Array(#"{"type":"hel"#.utf8) + [0] + Array(#"lo"}"#.utf8)) == ScanError(.controlCharacter, at: 12))
    }

    @Test("a UTF-8 sequence cut short by the end of the frame is an early end")
    func utf8CutByEnd() {
        #expect(scanError(Array(#"{"a":"x"#.utf8) + [0xF0, 0x9F]) == ScanError(.unexpectedEnd, at: 9))
    }

    @Test("a raw control character in a string is refused at its offset, at every position of a long string")
    func controlCharacters() {
        // Strings are scanned eight bytes at a time: try every position across several words.
        for position in 0..<24 {
            for control: UInt8 in [0x00, 0x01, 0x09, 0x0A, 0x1F] {
                var text = [UInt8](repeating: 0x61, count: 24)
                text[position] = control
                let frame = Array(#"{"a":""#.utf8) + text + Array(#""}"#.utf8)
                #expect(scanError(frame) == ScanError(.controlCharacter, at: 6 + position))
            }
        }
    }

    @Test("quotes, backslashes and non-ASCII bytes are seen at every position of a long string")
    func specialBytesEveryPosition() throws {
        for position in 0..<24 {
            var text = [UInt8](repeating: 0x20, count: 24)  // spaces: the lowest byte that needs no attention
            text[position] = 0x80
            #expect(scanError(Array(#"{"a":""#.utf8) + text + Array(#""}"#.utf8)) == ScanError(.invalidUTF8, at: 6 + position))
            text[position] = 0x22
            #expect(scanError(Array(#"{"a":""#.utf8) + text + Array(#""}"#.utf8))?.kind == .unexpectedByte)
            var escaped = [UInt8](repeating: 0x7E, count: 24)
            escaped.replaceSubrange(position..<(position + 1), with: Array(#"\""#.utf8))
            let scanned = try scan(Array(#"{"type":""#.utf8) + escaped + Array(#""}"#.utf8))
            #expect(scanned.envelope.type.length == 25 && scanned.envelope.type.isEscaped)
        }
    }

    @Test("depth 128 accepted, 129 refused at the 129th opening bracket")
    func depthLimit() throws {
        // The envelope object is depth 1; each array inside adds one.
        let ok = #"{"type":"hello","x":"# + nested(127) + "}"
        #expect(throws: Never.self) { _ = try scan(ok) }
        let tooDeep = #"{"type":"hello","x":"# + nested(128) + "}"
        #expect(scanError(tooDeep) == ScanError(.depthExceeded, at: 20 + 127))
        // Objects count too, and inside the payload.
        let objects = #"{"type":"hello","payload":"# + String(repeating: #"{"k":"#, count: 128) + "0" + String(repeating: "}", count: 128) + "}"
        #expect(scanError(objects) == ScanError(.depthExceeded, at: 26 + 127 * 5))
        #expect(ScanError.Kind.depthExceeded.isLimit)
    }

    @Test("a non-object root nests from depth 1")
    func rootArrayDepth() {
        #expect(scanError(nested(128)) == ScanError(.notAnObject, at: 0))
        #expect(scanError(nested(129)) == ScanError(.depthExceeded, at: 128))
    }

    @Test("maxDepth is configurable")
    func customDepth() {
        let options = ScanOptions(maxFrameSize: 1 << 20, maxDepth: 2)
        #expect(scanError(#"{"type":"hello","a":[]}"#, options: options) == nil)
        #expect(scanError(#"{"type":"hello","a":[[]]}"#, options: options) == ScanError(.depthExceeded, at: 21))
        #expect(scanError(#"{"type":"hello","a":{}}"#, options: ScanOptions(maxFrameSize: 100, maxDepth: 1)) == ScanError(.depthExceeded, at: 20))
    }

    @Test("frame one byte over max size is refused before reading")
    func frameTooLarge() {
        let options = ScanOptions(maxFrameSize: 16, maxDepth: 128)
        // Exactly 16 bytes: accepted.
        #expect(scanError(#"{"type":"hello"}"#, options: options) == nil)
        // 17 bytes of garbage: refused for its size, not for its content.
        #expect(scanError(String(repeating: "\u{1}", count: 17), options: options) == ScanError(.frameTooLarge, at: 16))
        #expect(ScanError.Kind.frameTooLarge.isLimit)
    }

    @Test("the default limits are 1 MiB and depth 128")
    func defaultLimits() {
        #expect(ScanOptions.default.maxFrameSize == 1 << 20)
        #expect(ScanOptions.default.maxDepth == 128)
        let filler = String(repeating: " ", count: (1 << 20) - 16)
        #expect(scanError(#"{"type":"hello"}"# + filler) == nil)
        #expect(scanError(#"{"type":"hello"}"# + filler + " ") == ScanError(.frameTooLarge, at: 1 << 20))
    }

    @Test("ScanOptions clamps its limits")
    func optionsClamp() {
        #expect(ScanOptions(maxFrameSize: -5, maxDepth: 0) == ScanOptions(maxFrameSize: 0, maxDepth: 1))
        #expect(ScanOptions(maxFrameSize: Int.max, maxDepth: 10_000).maxFrameSize == Int(UInt32.max) - 1)
        #expect(ScanOptions(maxFrameSize: 1, maxDepth: 10_000).maxDepth == 4096)
    }

    @Test(
        "semantic errors: not an object, missing type, type or envelope_id not a string, missing envelope_id",
        arguments: [
            ("[1,2]", ScanError(.notAnObject, at: 0)),
            ("  \"hello\" ", ScanError(.notAnObject, at: 2)),
            ("42", ScanError(.notAnObject, at: 0)),
            ("null", ScanError(.notAnObject, at: 0)),
            (#" {"envelope_id":"e","payload":{}}"#, ScanError(.missingType, at: 1)),
            ("{}", ScanError(.missingType, at: 0)),
            (#"{"payload":{"type":"hello"}}"#, ScanError(.missingType, at: 0)),
            (#"{"type":1}"#, ScanError(.fieldType, at: 8)),
            (#"{"type": null}"#, ScanError(.fieldType, at: 9)),
            (#"{"type":["hello"],"envelope_id":"e"}"#, ScanError(.fieldType, at: 8)),
            (#"{"type":"events_api","envelope_id": 7,"payload":{}}"#, ScanError(.fieldType, at: 36)),
            (#"{"type":"hello","envelope_id":{}}"#, ScanError(.fieldType, at: 30)),
            (#" {"type":"events_api","payload":{}}"#, ScanError(.missingEnvelopeID, at: 1)),
            (#"{"type":"slash_commands"}"#, ScanError(.missingEnvelopeID, at: 0)),
            (#"{"type":"interactive","payload":{"envelope_id":"e"}}"#, ScanError(.missingEnvelopeID, at: 0)),
        ])
    func semanticErrors(frame: String, error: ScanError) {
        #expect(scanError(frame) == error)
        #expect(error.kind.isSemantic)
    }

    @Test("a wrong type for type is reported before a missing envelope_id, a missing type before a wrong envelope_id")
    func semanticOrder() {
        #expect(scanError(#"{"envelope_id":1,"type":2}"#) == ScanError(.fieldType, at: 24))
        #expect(scanError(#"{"envelope_id":1}"#) == ScanError(.missingType, at: 0))
    }

    @Test("semantic errors come only after the whole frame validated")
    func syntaxWinsOverSemantics() {
        #expect(scanError(#"{"type":1,"x":tru}"#) == ScanError(.unexpectedByte, at: 17))
        #expect(scanError(#"{"envelope_id":"e"} x"#) == ScanError(.trailingData, at: 20))
        #expect(scanError("[1,]") == ScanError(.unexpectedByte, at: 3))
        #expect(scanError(#"{"type":"events_api","x":"\uDC00"}"#) == ScanError(.loneSurrogate, at: 26))
    }

    @Test("kinds split into syntax, limit and semantic, with stable raw values and names")
    func kindClasses() {
        for kind in ScanError.Kind.allCases {
            let classes = [kind.isSyntax, kind.isLimit, kind.isSemantic].filter { $0 }
            #expect(classes.count == 1, "\(kind) is in \(classes.count) classes")
        }
        #expect(ScanError.Kind.allCases.map(\.rawValue) == Array(1...14))
        #expect(Set(ScanError.Kind.allCases.map(\.name)).count == 14)
        #expect(ScanError.Kind.allCases.filter(\.isSyntax).count == 8)
        #expect(ScanError.Kind.allCases.filter(\.isSemantic).count == 4)
        #expect(ScanError(.invalidUTF8, at: 7).description == "invalid_utf8 at byte 7")
    }
}
