/// Decodes the contents of a JSON string (the bytes between its quotes) to UTF-8.
public enum JSONStringDecoder {
    /// Decodes `raw`, which must already have been validated by a scanner (escapes and
    /// UTF-8 are then well formed), into `output`. Returns the decoded length, or `nil`
    /// when `output` is too small. Never reads outside `raw` or writes outside `output`.
    /// Invalid input gives an unspecified result, never a crash.
    public static func decode(_ raw: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        var read = 0
        var written = 0
        let count = raw.count
        @inline(__always) func put(_ byte: UInt8) -> Bool {
            guard written < output.count else { return false }
            output[written] = byte
            written += 1
            return true
        }
        while read < count {
            let byte = raw[read]
            if byte != 0x5C {
                guard put(byte) else { return nil }
                read += 1
                continue
            }
            guard read + 1 < count else { return written }
            let kind = raw[read + 1]
            read += 2
            let simple: UInt8?
            switch kind {
            case 0x62: simple = 0x08
            case 0x66: simple = 0x0C
            case 0x6E: simple = 0x0A
            case 0x72: simple = 0x0D
            case 0x74: simple = 0x09
            case 0x75: simple = nil
            default: simple = kind  // " \ /
            }
            if let simple {
                guard put(simple) else { return nil }
                continue
            }
            var scalar = hex4(raw, at: read)
            read += 4
            if scalar >= 0xD800 && scalar <= 0xDBFF && read + 6 <= count && raw[read] == 0x5C && raw[read + 1] == 0x75 {
                let low = hex4(raw, at: read + 2)
                if low >= 0xDC00 && low <= 0xDFFF {
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    read += 6
                }
            }
            if scalar >= 0xD800 && scalar <= 0xDFFF { scalar = 0xFFFD }
            for unit in UTF8Encoding.encode(scalar) {
                guard put(unit) else { return nil }
            }
        }
        return written
    }

    /// Decodes `view` of `buffer` into a Swift `String` (allocates; not for hot paths).
    public static func string(_ view: ByteView, in buffer: UnsafeRawBufferPointer) -> String? {
        guard view.isPresent else { return nil }
        let raw = view.bytes(in: buffer)
        if !view.isEscaped {
            return String(decoding: raw, as: UTF8.self)
        }
        // Decoding never makes a string longer than its escaped form.
        return String(unsafeUninitializedCapacity: max(raw.count, 1)) { storage in
            JSONStringDecoder.decode(raw, into: UnsafeMutableRawBufferPointer(storage)) ?? 0
        }
    }

    private static func hex4(_ raw: UnsafeRawBufferPointer, at position: Int) -> UInt32 {
        var value: UInt32 = 0
        var i = position
        while i < position + 4 && i < raw.count {
            value = value << 4 | (HexDigit.value(raw[i]) ?? 0)
            i += 1
        }
        return value
    }
}

/// UTF-8 encoding of one scalar, without allocating.
enum UTF8Encoding {
    struct Units: Sequence, IteratorProtocol {
        var bytes: (UInt8, UInt8, UInt8, UInt8)
        var count: Int
        var position = 0
        mutating func next() -> UInt8? {
            guard position < count else { return nil }
            defer { position += 1 }
            switch position {
            case 0: return bytes.0
            case 1: return bytes.1
            case 2: return bytes.2
            default: return bytes.3
            }
        }
    }

    static func encode(_ scalar: UInt32) -> Units {
        switch scalar {
        case 0..<0x80:
            return Units(bytes: (UInt8(scalar), 0, 0, 0), count: 1)
        case 0x80..<0x800:
            return Units(bytes: (UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F), 0, 0), count: 2)
        case 0x800..<0x10000:
            return Units(
                bytes: (UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F), 0),
                count: 3)
        default:
            return Units(
                bytes: (
                    UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F),
                    UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)
                ), count: 4)
        }
    }
}
