import SockeyeCore

/// `application/x-www-form-urlencoded`, as Slack sends slash commands (`key=value&…`) and
/// interactive payloads (`payload=<JSON>`) in HTTP mode.
public enum FormEncoding {
    /// `pairs` encoded: unreserved bytes (`A–Z a–z 0–9 - . _ ~`) as they are, space as `+`,
    /// every other byte of the UTF-8 as `%XX`.
    public static func encode(_ pairs: [(String, String)]) -> [UInt8] {
        var out: [UInt8] = []
        for (index, (name, value)) in pairs.enumerated() {
            if index > 0 { out.append(0x26) }
            escape(name.utf8, into: &out)
            out.append(0x3D)
            escape(value.utf8, into: &out)
        }
        return out
    }

    /// `name=` + the bytes escaped (no parsing of `bytes`): `payload=<JSON>`.
    public static func encode(name: String, bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2 + name.utf8.count + 1)
        escape(name.utf8, into: &out)
        out.append(0x3D)
        escape(bytes, into: &out)
        return out
    }

    private static func escape<Bytes: Sequence<UInt8>>(_ bytes: Bytes, into out: inout [UInt8]) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: " "):
                out.append(UInt8(ascii: "+"))
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
    }

    /// The pairs of a form body in order, or nil when it is not one: a `%` not followed by
    /// two hex digits, or text that is not UTF-8 once decoded. A member without `=` has an
    /// empty value; empty members (`a=1&&b=2`) are skipped.
    public static func decode(_ body: UnsafeRawBufferPointer) -> [(String, String)]? {
        var pairs: [(String, String)] = []
        for member in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = member.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescape(parts[0]), let value = parts.count > 1 ? unescape(parts[1]) : "" else { return nil }
            pairs.append((name, value))
        }
        return pairs
    }

    private static func unescape(_ bytes: Slice<UnsafeRawBufferPointer>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                out.append(0x20)
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) else { return nil }
                out.append(high << 4 | low)
                index += 2
            } else {
                out.append(byte)
            }
            index += 1
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// A slash command's Socket Mode payload (a JSON object of strings) as HTTP mode's form
    /// pairs, in the object's order; a value that is not a string is sent as its JSON text
    /// (`true`). Nil when `json` is not a JSON object.
    public static func pairs(fromJSONObject json: UnsafeRawBufferPointer) -> [(String, String)]? {
        guard let members = try? JSONObjectMembers.read(json) else { return nil }
        return members.map { member in
            let raw = member.value.bytes(in: json)
            let text = member.isString ? JSONStringDecoder.string(member.value, in: json) : String(decoding: raw, as: UTF8.self)
            return (member.name, text ?? "")
        }
    }

    /// Form pairs as the JSON object Socket Mode carries for a slash command (every value a
    /// string, in the form's order).
    public static func jsonObject(fromPairs pairs: [(String, String)]) -> [UInt8] {
        var writer = JSONLineWriter()
        writer.begin(capacity: pairs.reduce(2) { $0 + $1.0.utf8.count + $1.1.utf8.count + 6 })
        for (name, value) in pairs { writer.field(name, value) }
        writer.end()
        return writer.bytes
    }
}
