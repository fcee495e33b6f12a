/// The envelope fields every competitor extracts, normalised for comparison.
///
/// Parsers that hand out raw views (the scanner, simdjson on-demand) give escaped bytes; they
/// are unescaped here, once per fixture and outside the timed loops, so that every parser can
/// be compared with every other.
struct ExtractedFields: Equatable {
    /// What a parser could tell about `payload`.
    enum Payload: Equatable {
        case absent
        /// The parser built a tree and only knows that `payload` is an object.
        case object
        /// The payload's source bytes, as a view into the input (scanner, on-demand).
        case raw([UInt8])
    }

    var type: String?
    var envelopeID: String?
    var payload: Payload = .absent
    var acceptsResponsePayload: Bool?
    var retryAttempt: Int64?
    var retryReason: String?
    var eventID: String?
    /// `payload.team_id`, or else `payload.team.id` (interactive payloads): the scanner's rule.
    var teamID: String?
    var payloadType: String?
    var eventType: String?

    /// The scalar fields, named, in a fixed order, for comparison and messages.
    var scalarFields: [(name: String, value: String)] {
        func show(_ value: String?) -> String { value.map { "\"\($0)\"" } ?? "absent" }
        return [
            ("type", show(type)),
            ("envelope_id", show(envelopeID)),
            ("accepts_response_payload", acceptsResponsePayload.map { String($0) } ?? "absent"),
            ("retry_attempt", retryAttempt.map { String($0) } ?? "absent"),
            ("retry_reason", show(retryReason)),
            ("payload.event_id", show(eventID)),
            ("payload.team_id", show(teamID)),
            ("payload.type", show(payloadType)),
            ("payload.event.type", show(eventType)),
        ]
    }

    static func == (lhs: ExtractedFields, rhs: ExtractedFields) -> Bool {
        lhs.scalarFields.map(\.value) == rhs.scalarFields.map(\.value) && lhs.payload == rhs.payload
    }
}

/// Errors raised while extracting or checking; the benchmark stops on any of them.
struct BenchmarkFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Decodes the contents of a JSON string (without its quotes) as RFC 8259 defines escapes.
/// Used only to normalise raw views for the cross-parser check, never in a timed loop.
func unescapeJSONString(_ bytes: some Collection<UInt8>) throws(BenchmarkFailure) -> String {
    var scalars = String.UnicodeScalarView()
    var utf8 = [UInt8]()
    var index = bytes.startIndex

    func flush() {
        scalars.append(contentsOf: String(decoding: utf8, as: UTF8.self).unicodeScalars)
        utf8.removeAll(keepingCapacity: true)
    }
    func hex4() throws(BenchmarkFailure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index != bytes.endIndex else { throw BenchmarkFailure("truncated \\u escape") }
            let byte = bytes[index]
            bytes.formIndex(after: &index)
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw BenchmarkFailure("bad hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    while index != bytes.endIndex {
        let byte = bytes[index]
        bytes.formIndex(after: &index)
        guard byte == UInt8(ascii: "\\") else {
            utf8.append(byte)
            continue
        }
        guard index != bytes.endIndex else { throw BenchmarkFailure("truncated escape") }
        let escape = bytes[index]
        bytes.formIndex(after: &index)
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escape)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            flush()
            var code = try hex4()
            if (0xD800..<0xDC00).contains(code) {
                guard index != bytes.endIndex, bytes[index] == UInt8(ascii: "\\") else {
                    throw BenchmarkFailure("lone high surrogate")
                }
                bytes.formIndex(after: &index)
                guard index != bytes.endIndex, bytes[index] == UInt8(ascii: "u") else {
                    throw BenchmarkFailure("lone high surrogate")
                }
                bytes.formIndex(after: &index)
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw BenchmarkFailure("bad low surrogate") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(code) else { throw BenchmarkFailure("bad \\u escape") }
            scalars.append(scalar)
        default:
            throw BenchmarkFailure("bad escape \\\(Character(Unicode.Scalar(escape)))")
        }
    }
    flush()
    return String(scalars)
}
