/// Breaks (or, sometimes, harmlessly changes) a generated frame: truncations, bit flips,
/// byte insertions and deletions, invalid UTF-8, lone surrogate escapes, bad numbers,
/// trailing commas, trailing data and raw control characters.
struct FrameMutator {
    enum Mutation: String, CaseIterable {
        case truncate, bitFlip, insertByte, deleteBytes, invalidUTF8, surrogateEscape
        case badNumber, trailingComma, trailingData, controlCharacter, badEscape
    }

    static let interestingBytes: [UInt8] = [
        0x22, 0x5C, 0x7B, 0x7D, 0x5B, 0x5D, 0x2C, 0x3A, 0x00, 0x01, 0x1F, 0x20, 0x7F, 0x80, 0xBF,
        0xC0, 0xC1, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xF5, 0xFF, 0x30, 0x31, 0x2D, 0x2E, 0x65, 0x74, 0x6E, 0x75,
    ]
    static let invalidUTF8: [[UInt8]] = [
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xBF], [0xFE], [0xFF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        [0xC3, 0x28], [0xE2, 0x28, 0xA1], [0xF0, 0x28, 0x8C, 0xBC],
        // Valid, for contrast.
        [0xC2, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80],
    ]
    static let surrogateEscapes: [String] = [
        "\\uD800", "\\udbff", "\\uDC00", "\\uDFFF", "\\uD800\\u0041", "\\uD800\\n", "\\uD800\\uD800",
        "\\uDC00\\uD800", "\\uD83D", "\\uD83D\\uDE00", "\\ud83d\\ude00", "\\uD800\\uDC0", "\\uD800\\uDBFF",
        "\\uD800\\", "\\uD800\\u", "\\uDBFF\\uDFFF",
    ]
    static let badNumbers: [String] = [
        "01", "1.", "-", "1e", ".5", "+1", "-01", "1.e5", "1e+", "--1", "0x1F", "1.5.2", "1e5e5", "00", "-.5",
        "Infinity", "NaN", "1_000", "０", "1E", "-a", ".", "e5",
        // Valid, for contrast.
        "-0", "0.0e-0", "1E+2", "123456789012345678", "-9223372036854775808",
    ]
    static let badEscapes: [String] = ["\\x41", "\\a", "\\U0041", "\\u00G1", "\\u12", "\\0", "\\'", "\\ ", "\\\n", "\\u-123"]
    static let trailers: [String] = ["x", "{}", " 1", ",", "\u{0}", "}", "]", " \"a\"", " ", "\n\t\r ", "\u{FEFF}", "null"]

    var rng: SeededGenerator

    /// Applies one mutation to `bytes` and returns which.
    mutating func mutate(_ bytes: inout [UInt8]) -> Mutation {
        let mutation = rng.pick(Mutation.allCases)
        let n = bytes.count
        switch mutation {
        case .truncate:
            bytes.removeLast(n == 0 ? 0 : 1 + rng.below(n))
        case .bitFlip:
            if n > 0 { bytes[rng.below(n)] ^= 1 << UInt8(rng.below(8)) }
        case .insertByte:
            bytes.insert(rng.pick(Self.interestingBytes), at: rng.below(n + 1))
        case .deleteBytes:
            if n > 0 {
                let at = rng.below(n)
                bytes.removeSubrange(at..<min(n, at + 1 + rng.below(3)))
            }
        case .invalidUTF8:
            bytes.insert(contentsOf: rng.pick(Self.invalidUTF8), at: insideString(bytes))
        case .surrogateEscape:
            bytes.insert(contentsOf: Array(rng.pick(Self.surrogateEscapes).utf8), at: insideString(bytes))
        case .badEscape:
            bytes.insert(contentsOf: Array(rng.pick(Self.badEscapes).utf8), at: insideString(bytes))
        case .controlCharacter:
            bytes.insert(UInt8(rng.below(0x20)), at: insideString(bytes))
        case .badNumber:
            replaceNumber(&bytes, with: Array(rng.pick(Self.badNumbers).utf8))
        case .trailingComma:
            let closers = bytes.indices.filter { bytes[$0] == 0x7D || bytes[$0] == 0x5D }
            if let at = closers.isEmpty ? nil : rng.pick(closers) { bytes.insert(0x2C, at: at) }
        case .trailingData:
            bytes.append(contentsOf: Array(rng.pick(Self.trailers).utf8))
        }
        return mutation
    }

    /// A position just after a random quote (so usually inside a string), or anywhere.
    mutating func insideString(_ bytes: [UInt8]) -> Int {
        let quotes = bytes.indices.filter { bytes[$0] == 0x22 }
        if quotes.isEmpty || rng.chance(10) { return rng.below(bytes.count + 1) }
        return rng.pick(quotes) + 1
    }

    /// Replaces a random number token (a digit or `-` after `:`, `[` or `,`) with `text`,
    /// or inserts `text` as a new array element / member value when there is none.
    mutating func replaceNumber(_ bytes: inout [UInt8], with text: [UInt8]) {
        var starts: [Int] = []
        var previous: UInt8 = 0
        for (i, b) in bytes.enumerated() {
            if (b == 0x2D || (b >= 0x30 && b <= 0x39)) && (previous == 0x3A || previous == 0x5B || previous == 0x2C) {
                starts.append(i)
            }
            if b != 0x20 && b != 0x09 && b != 0x0A && b != 0x0D { previous = b }
        }
        guard !starts.isEmpty else {
            if let open = bytes.firstIndex(of: 0x7B) {
                bytes.insert(contentsOf: Array("\"n\":".utf8) + text + [0x2C], at: open + 1)
            } else {
                bytes = text
            }
            return
        }
        let start = rng.pick(starts)
        var end = start
        let numberBytes: Set<UInt8> = Set(Array("+-.eE0123456789".utf8))
        while end < bytes.count && numberBytes.contains(bytes[end]) { end += 1 }
        bytes.replaceSubrange(start..<end, with: text)
    }
}
