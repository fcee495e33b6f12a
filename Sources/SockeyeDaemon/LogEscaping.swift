/// Escapes that keep a log line one line and, for `json`, valid JSON whatever a message or a
/// value holds: quotes, backslashes, newlines, other control characters. A Swift `String` is
/// always valid Unicode (bytes that were not UTF-8, say from Slack, were decoded as U+FFFD
/// before they became one), so what comes out is valid UTF-8.
enum LogEscaping {
    /// Appends `text` as a JSON string, quotes included. Control characters (U+0000–U+001F,
    /// U+007F) are escaped, and so are U+2028 and U+2029 (line separators to JavaScript).
    static func appendJSONString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append(contentsOf: [0x5C, 0x22])  // \"
            case 0x5C: out.append(contentsOf: [0x5C, 0x5C])  // \\
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
            case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
            case 0x00..<0x20, 0x7F, 0x2028, 0x2029: appendUnicodeEscape(scalar.value, to: &out)
            case 0x20..<0x80: out.append(UInt8(scalar.value))
            default: out.append(contentsOf: String(Character(scalar)).utf8)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `text` with line breaks and other control characters written as `\n`, `\r`, `\t` or
    /// `\u00XX`, for a `text` line. Returns `text` itself when there is nothing to escape.
    static func singleLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            case 0x00..<0x20, 0x7F: appendUnicodeEscape(UInt32(byte), to: &out)
            default: out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func appendUnicodeEscape(_ value: UInt32, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        out.append(contentsOf: [0x5C, UInt8(ascii: "u")])
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hex[Int((value >> UInt32(shift)) & 0xF)])
        }
    }
}
