/// Why a frame could not be scanned, and where.
///
/// `offset` is the byte offset at which the problem was detected: the first byte that
/// breaks the grammar, the first byte of a bad UTF-8 sequence or escape, or the frame's
/// length when it ended too early. Semantic errors (the frame is valid JSON but not a
/// Socket Mode message) are reported only after the whole frame was validated, so a
/// syntax error always wins over a semantic one.
public struct ScanError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The class of problem. Raw values are part of the C ABI (`sockeye_scan_error`).
    public enum Kind: Int32, Sendable, Hashable, CaseIterable {
        // Syntax: the frame is not strict RFC 8259 JSON.
        /// The frame ended inside a value.
        case unexpectedEnd = 1
        /// A byte that the JSON grammar does not allow here.
        case unexpectedByte = 2
        /// Malformed UTF-8: a bad lead or continuation byte, an overlong form, an encoded
        /// surrogate, a code point above U+10FFFF, or a sequence cut short.
        case invalidUTF8 = 3
        /// A raw control character (U+0000–U+001F) inside a string.
        case controlCharacter = 4
        /// A backslash escape that JSON does not define, or a `\u` without four hex digits.
        case invalidEscape = 5
        /// A `\u` escape of a UTF-16 surrogate that is not part of a high+low pair.
        case loneSurrogate = 6
        /// A number that breaks the JSON number grammar.
        case invalidNumber = 7
        /// Bytes other than whitespace after the top-level value.
        case trailingData = 8
        // Limits: the frame may be valid JSON, but exceeds what the scanner accepts.
        /// Objects and arrays nested deeper than `ScanOptions.maxDepth`.
        case depthExceeded = 9
        /// The frame is longer than `ScanOptions.maxFrameSize`.
        case frameTooLarge = 10
        // Semantics: valid JSON, but not a Socket Mode message.
        /// The top-level value is not an object.
        case notAnObject = 11
        /// The object has no `type` member.
        case missingType = 12
        /// `type` or `envelope_id` is present but not a string.
        case fieldType = 13
        /// An `events_api`, `slash_commands` or `interactive` envelope without `envelope_id`
        /// (it could never be acknowledged).
        case missingEnvelopeID = 14

        /// Whether this kind means the bytes are not valid JSON at all.
        public var isSyntax: Bool { rawValue <= Kind.trailingData.rawValue }
        /// Whether this kind means the frame broke a configured limit.
        public var isLimit: Bool { self == .depthExceeded || self == .frameTooLarge }
        /// Whether this kind means the frame is valid JSON but not a Socket Mode message.
        public var isSemantic: Bool { rawValue >= Kind.notAnObject.rawValue }

        /// A short stable name, e.g. `"invalid_utf8"`.
        public var name: String { staticName.description }

        /// The same name as static, NUL-terminated storage (the C ABI hands it out).
        public var staticName: StaticString {
            switch self {
            case .unexpectedEnd: "unexpected_end"
            case .unexpectedByte: "unexpected_byte"
            case .invalidUTF8: "invalid_utf8"
            case .controlCharacter: "control_character"
            case .invalidEscape: "invalid_escape"
            case .loneSurrogate: "lone_surrogate"
            case .invalidNumber: "invalid_number"
            case .trailingData: "trailing_data"
            case .depthExceeded: "depth_exceeded"
            case .frameTooLarge: "frame_too_large"
            case .notAnObject: "not_an_object"
            case .missingType: "missing_type"
            case .fieldType: "field_type"
            case .missingEnvelopeID: "missing_envelope_id"
            }
        }
    }

    /// The class of problem.
    public var kind: Kind
    /// The byte offset at which it was detected.
    public var offset: Int

    /// An error of `kind` detected at `offset`.
    @inlinable
    public init(_ kind: Kind, at offset: Int) {
        self.kind = kind
        self.offset = offset
    }

    public var description: String { "\(kind.name) at byte \(offset)" }
}
