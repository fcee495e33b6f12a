/// Reads a client frame as an ack: a JSON object with `envelope_id` (string) and an
/// optional `payload`. It validates JSON structure (not full number/escape grammar) in one
/// pass without allocating, and returns byte ranges into the frame.
public enum AckParser {
    /// What a client frame turned out to be.
    public enum Result: Equatable, Sendable {
        /// A well-formed ack; `payload` is the byte range of the payload value, if present.
        case ack(envelopeID: Range<Int>, payload: Range<Int>?)
        /// Valid JSON object without a string `envelope_id`.
        case notAnAck
        /// Not valid JSON.
        case malformed
    }

    private struct Bad: Error {}

    public static func parse(_ buf: UnsafeRawBufferPointer) -> Result {
        var p = 0
        do {
            skipWS(buf, &p)
            guard p < buf.count, buf[p] == UInt8(ascii: "{") else {
                try skipValue(buf, &p, depth: 0)
                skipWS(buf, &p)
                return p == buf.count ? .notAnAck : .malformed
            }
            p += 1
            var envelope: Range<Int>?
            var payload: Range<Int>?
            skipWS(buf, &p)
            if p < buf.count, buf[p] == UInt8(ascii: "}") {
                p += 1
            } else {
                while true {
                    skipWS(buf, &p)
                    let key = try string(buf, &p)
                    skipWS(buf, &p)
                    guard p < buf.count, buf[p] == UInt8(ascii: ":") else { throw Bad() }
                    p += 1
                    skipWS(buf, &p)
                    let start = p
                    if equals(buf, key, "envelope_id"), p < buf.count, buf[p] == UInt8(ascii: "\"") {
                        envelope = try string(buf, &p)
                    } else {
                        try skipValue(buf, &p, depth: 1)
                        if equals(buf, key, "payload") { payload = start..<p }
                    }
                    skipWS(buf, &p)
                    guard p < buf.count else { throw Bad() }
                    if buf[p] == UInt8(ascii: ",") { p += 1; continue }
                    if buf[p] == UInt8(ascii: "}") { p += 1; break }
                    throw Bad()
                }
            }
            skipWS(buf, &p)
            guard p == buf.count else { return .malformed }
            if let envelope { return .ack(envelopeID: envelope, payload: payload) }
            return .notAnAck
        } catch {
            return .malformed
        }
    }

    private static func equals(_ buf: UnsafeRawBufferPointer, _ r: Range<Int>, _ s: StaticString) -> Bool {
        guard r.count == s.utf8CodeUnitCount else { return false }
        let base = s.utf8Start
        for i in 0..<r.count where buf[r.lowerBound + i] != base[i] { return false }
        return true
    }

    private static func skipWS(_ buf: UnsafeRawBufferPointer, _ p: inout Int) {
        while p < buf.count {
            let c = buf[p]
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            p += 1
        }
    }

    /// Parses a string starting at `"`; returns the range of its contents (escapes kept).
    private static func string(_ buf: UnsafeRawBufferPointer, _ p: inout Int) throws -> Range<Int> {
        guard p < buf.count, buf[p] == UInt8(ascii: "\"") else { throw Bad() }
        p += 1
        let start = p
        while p < buf.count {
            let c = buf[p]
            if c == UInt8(ascii: "\"") { p += 1; return start..<(p - 1) }
            if c == UInt8(ascii: "\\") { p += 2; continue }
            if c < 0x20 { throw Bad() }
            p += 1
        }
        throw Bad()
    }

    private static func skipValue(_ buf: UnsafeRawBufferPointer, _ p: inout Int, depth: Int) throws {
        guard depth < 128, p < buf.count else { throw Bad() }
        switch buf[p] {
        case UInt8(ascii: "\""):
            _ = try string(buf, &p)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = buf[p] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            p += 1
            skipWS(buf, &p)
            if p < buf.count, buf[p] == close { p += 1; return }
            while true {
                skipWS(buf, &p)
                if isObject {
                    _ = try string(buf, &p)
                    skipWS(buf, &p)
                    guard p < buf.count, buf[p] == UInt8(ascii: ":") else { throw Bad() }
                    p += 1
                    skipWS(buf, &p)
                }
                try skipValue(buf, &p, depth: depth + 1)
                skipWS(buf, &p)
                guard p < buf.count else { throw Bad() }
                if buf[p] == UInt8(ascii: ",") { p += 1; continue }
                if buf[p] == close { p += 1; return }
                throw Bad()
            }
        case UInt8(ascii: "t"): try literal(buf, &p, "true")
        case UInt8(ascii: "f"): try literal(buf, &p, "false")
        case UInt8(ascii: "n"): try literal(buf, &p, "null")
        case UInt8(ascii: "-"), 48...57:
            let start = p
            while p < buf.count, "+-.eE0123456789".utf8.contains(buf[p]) { p += 1 }
            if p == start { throw Bad() }
        default:
            throw Bad()
        }
    }

    private static func literal(_ buf: UnsafeRawBufferPointer, _ p: inout Int, _ s: StaticString) throws {
        let n = s.utf8CodeUnitCount
        guard p + n <= buf.count else { throw Bad() }
        for i in 0..<n where buf[p + i] != s.utf8Start[i] { throw Bad() }
        p += n
    }
}
