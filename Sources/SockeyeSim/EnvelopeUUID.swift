/// A 128-bit UUID (version 4 layout) used as an `envelope_id`, stored as two words so
/// the ack path can look it up without allocating a String.
public struct EnvelopeUUID: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) { self.high = high; self.low = low }

    /// A random v4 UUID from `rng`.
    public static func random(_ rng: inout FastRandom) -> EnvelopeUUID {
        let h = (rng.next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
        let l = (rng.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return EnvelopeUUID(high: h, low: l)
    }

    /// Appends the 36-character lowercase UUID text to `out`.
    public func write(into out: inout [UInt8]) {
        @inline(__always) func put(_ v: UInt64, _ nibbles: Int, _ shiftFromTop: Int, _ out: inout [UInt8]) {
            for i in 0..<nibbles {
                let nibble = UInt8((v >> UInt64(60 - 4 * (shiftFromTop + i))) & 0xF)
                out.append(nibble < 10 ? 48 + nibble : 87 + nibble)
            }
        }
        put(high, 8, 0, &out); out.append(UInt8(ascii: "-"))
        put(high, 4, 8, &out); out.append(UInt8(ascii: "-"))
        put(high, 4, 12, &out); out.append(UInt8(ascii: "-"))
        put(low, 4, 0, &out); out.append(UInt8(ascii: "-"))
        put(low, 12, 4, &out)
    }

    public var description: String {
        var b: [UInt8] = []
        b.reserveCapacity(36)
        write(into: &b)
        return String(decoding: b, as: UTF8.self)
    }

    /// Parses the 36-byte UUID text form (either case); nil if it is not one.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> EnvelopeUUID? {
        guard bytes.count == 36 else { return nil }
        var words: (UInt64, UInt64) = (0, 0)
        var n = 0
        for i in 0..<36 {
            let c = bytes[i]
            if i == 8 || i == 13 || i == 18 || i == 23 {
                guard c == UInt8(ascii: "-") else { return nil }
                continue
            }
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: return nil
            }
            if n < 16 { words.0 = words.0 << 4 | UInt64(v) } else { words.1 = words.1 << 4 | UInt64(v) }
            n += 1
        }
        return EnvelopeUUID(high: words.0, low: words.1)
    }

    /// Parses a UUID string.
    public init?(_ text: String) {
        var t = text
        guard let id = t.withUTF8({ EnvelopeUUID.parse(UnsafeRawBufferPointer($0)) }) else { return nil }
        self = id
    }
}

/// xoshiro256** — a fast, seedable generator for ids and payload choices (not crypto).
public struct FastRandom: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitmix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitmix(&x), splitmix(&x), splitmix(&x), splitmix(&x))
    }

    /// Seeds from the system generator.
    public init() { self.init(seed: UInt64.random(in: 0...UInt64.max)) }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0; s.3 ^= s.1; s.1 ^= s.2; s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }
}
