/// UTF-8 validation for text messages and close reasons (RFC 6455 §8.1, RFC 3629 §4).
///
/// Socket Mode frames are JSON, mostly ASCII: runs of ASCII are checked sixteen bytes at a
/// time (two words whose high bits must all be clear); a multi-byte sequence is checked byte
/// by byte against RFC 3629's table, which refuses overlong forms, surrogates (U+D800…DFFF)
/// and code points above U+10FFFF.
///
/// Validation can run piece by piece: `validPrefixLength` accepts an unfinished sequence at
/// the end when its bytes so far can still become valid, so a fragmented message is checked
/// as its fragments arrive and fails on the first fragment that cannot be UTF-8.
public enum WebSocketUTF8 {
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether `bytes` is complete, valid UTF-8.
    public static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        validPrefixLength(bytes) == bytes.count
    }

    /// The length of the longest prefix of `bytes` made of whole valid sequences, when the
    /// bytes after it (at most three) are the valid beginning of one more sequence; `nil`
    /// when `bytes` cannot be the beginning of valid UTF-8.
    static func validPrefixLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard let base = bytes.baseAddress else { return 0 }
        let count = bytes.count
        var index = 0
        while index < count {
            // ASCII runs, a word pair at a time. Safe: each load stays below `count`.
            while index + 16 <= count {
                let a = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let b = base.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
                if (a | b) & highBits != 0 { break }
                index += 16
            }
            guard index < count else { break }
            if index + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & highBits
                if word == 0 {
                    index += 8
                    continue
                }
                // Jump straight to the first byte with its high bit set.
                #if _endian(little)
                    index += word.trailingZeroBitCount >> 3
                #else
                    index += word.leadingZeroBitCount >> 3
                #endif
            }
            let lead = base.load(fromByteOffset: index, as: UInt8.self)
            if lead < 0x80 {
                index += 1
                continue
            }
            // The length of the sequence and the range its second byte must fall in: the
            // narrow ranges are what exclude overlongs (E0, F0), surrogates (ED) and code
            // points past U+10FFFF (F4). C0, C1 and F5…FF never start a sequence.
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE, 0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return nil
            }
            let available = min(length, count - index)
            if available > 1 {
                let second = base.load(fromByteOffset: index + 1, as: UInt8.self)
                guard second >= low && second <= high else { return nil }
                var k = 2
                while k < available {
                    guard base.load(fromByteOffset: index + k, as: UInt8.self) & 0xC0 == 0x80 else { return nil }
                    k += 1
                }
            }
            // An unfinished sequence can only be the tail.
            if available < length { return index }
            index += length
        }
        return count
    }
}
