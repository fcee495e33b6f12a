/// IPv4 and IPv6 address literals, parsed strictly, for URL hosts and `NO_PROXY` entries.
///
/// Only the textual forms URLs use are accepted: dotted-decimal IPv4 with exactly four parts
/// of 0–255 without leading zeros (so `010.0.0.1` is not silently octal, as some C libraries
/// read it), and RFC 4291 IPv6 text (hex groups, one `::`, an optional dotted IPv4 tail).
/// Zone identifiers (`fe80::1%eth0`) are refused: they mean nothing to a proxy or a peer.
enum IPLiteral: Hashable, Sendable {
    case v4(UInt32)
    /// The address as two big-endian halves.
    case v6(UInt64, UInt64)

    /// Parses `text` as either form; `nil` when it is neither.
    init?(_ text: Substring) {
        if text.contains(":") {
            guard let value = IPLiteral.parseIPv6(text.utf8) else { return nil }
            self = value
        } else {
            guard let value = IPLiteral.parseIPv4(text.utf8) else { return nil }
            self = .v4(value)
        }
    }

    /// Whether the first `prefix` bits of `self` and `other` are equal (same family only).
    func matches(_ other: IPLiteral, prefix: Int) -> Bool {
        switch (self, other) {
        case (.v4(let a), .v4(let b)):
            guard prefix > 0 else { return true }
            let mask = prefix >= 32 ? UInt32.max : ~(UInt32.max >> UInt32(prefix))
            return a & mask == b & mask
        case (.v6(let ah, let al), .v6(let bh, let bl)):
            let highBits = min(max(prefix, 0), 64)
            let lowBits = min(max(prefix - 64, 0), 64)
            return IPLiteral.masked(ah, highBits) == IPLiteral.masked(bh, highBits)
                && IPLiteral.masked(al, lowBits) == IPLiteral.masked(bl, lowBits)
        default:
            return false
        }
    }

    /// The number of bits in an address of this family.
    var bitCount: Int {
        if case .v4 = self { return 32 }
        return 128
    }

    private static func masked(_ value: UInt64, _ bits: Int) -> UInt64 {
        bits == 0 ? 0 : value & ~(bits >= 64 ? 0 : UInt64.max >> UInt64(bits))
    }

    /// Strict dotted-decimal: four parts, each 0–255, no leading zeros, nothing else.
    static func parseIPv4<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var part: UInt32 = 0
        var digits = 0
        var firstIsZero = false
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                part = 0
                digits = 0
                continue
            }
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            if digits == 0 {
                firstIsZero = byte == 0x30
            } else if firstIsZero {
                return nil  // a leading zero
            }
            part = part * 10 + UInt32(byte - 0x30)
            digits += 1
            guard part <= 255 else { return nil }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    /// RFC 4291 §2.2 text: up to eight 16-bit hex groups, at most one `::`, and optionally a
    /// dotted IPv4 address in place of the last two groups.
    static func parseIPv6<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> IPLiteral? {
        let text = Array(bytes)
        guard text.count >= 2, text.count <= 45 else { return nil }
        var groups: [UInt16] = []
        var gap: Int? = nil  // index in `groups` where `::` stands
        var i = 0
        if text[0] == UInt8(ascii: ":") {
            guard text[1] == UInt8(ascii: ":") else { return nil }
            gap = 0
            i = 2
        }
        while i < text.count {
            // One group (or the IPv4 tail) starts at `i`.
            var end = i
            while end < text.count && text[end] != UInt8(ascii: ":") { end += 1 }
            let field = text[i..<end]
            if field.contains(UInt8(ascii: ".")) {
                // The IPv4 tail must be last and leave room for itself.
                guard end == text.count, let v4 = parseIPv4(field) else { return nil }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                i = end
                break
            }
            guard !field.isEmpty, field.count <= 4 else { return nil }
            var group: UInt16 = 0
            for byte in field {
                guard let digit = HexDigit.value(byte) else { return nil }
                group = group << 4 | UInt16(digit)
            }
            groups.append(group)
            i = end
            guard i < text.count else { break }
            // At a colon: either a separator, or the start of `::`.
            i += 1
            if i < text.count && text[i] == UInt8(ascii: ":") {
                guard gap == nil else { return nil }
                gap = groups.count
                i += 1
            } else if i == text.count {
                return nil  // a trailing single colon
            }
        }
        guard groups.count <= 8 else { return nil }
        if let gap {
            guard groups.count <= 7 else { return nil }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: gap)
        } else {
            guard groups.count == 8 else { return nil }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for k in 0..<4 { high = high << 16 | UInt64(groups[k]) }
        for k in 4..<8 { low = low << 16 | UInt64(groups[k]) }
        return .v6(high, low)
    }
}
