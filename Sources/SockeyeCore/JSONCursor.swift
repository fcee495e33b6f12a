import CSockeyeSIMD

/// A strict RFC 8259 validator that walks a byte buffer once, front to back.
///
/// Safety: this is one of the few places with unchecked pointer reads. Every read of
/// `base[i]` is preceded by a check `i < count` (or `i + n <= count` for multi-byte reads,
/// including the 64-byte blocks of `loadStops`) in the same function, and `count` is the
/// length of the buffer the cursor was made from, which outlives the cursor (it is only
/// created inside `withUnsafeBytes`-style scopes). The fuzz target runs this code under
/// AddressSanitizer.
@usableFromInline
struct JSONCursor {
    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let count: Int
    @usableFromInline let maxDepth: Int
    @usableFromInline var index: Int = 0
    /// Where the block of `stops` starts; far before the buffer until the first string.
    @usableFromInline var stopsBase: Int = -128
    /// Bit k: byte `stopsBase + k` is one a string scan must stop at (see `scanString`).
    @usableFromInline var stops: UInt64 = 0

    @inlinable
    init(base: UnsafePointer<UInt8>, count: Int, maxDepth: Int) {
        self.base = base
        self.count = count
        self.maxDepth = maxDepth
    }

    /// A cursor over one whole frame, after the checks every frame scanner makes first: the
    /// size limit, then an empty frame.
    @inlinable
    init(frame buffer: UnsafeRawBufferPointer, options: ScanOptions) throws(ScanError) {
        guard buffer.count <= options.maxFrameSize else { throw ScanError(.frameTooLarge, at: options.maxFrameSize) }
        guard let base = buffer.baseAddress, buffer.count > 0 else { throw ScanError(.unexpectedEnd, at: 0) }
        self.init(base: base.assumingMemoryBound(to: UInt8.self), count: buffer.count, maxDepth: options.maxDepth)
    }

    /// Skips leading whitespace and returns the offset of the top-level value, which must be
    /// an object; any other value is still validated whole, so a syntax error anywhere wins
    /// over `.notAnObject`. `outerDepth` is how deep the value will sit (0 for a frame).
    @inlinable
    mutating func rootObjectOffset(outerDepth: Int = 0) throws(ScanError) -> Int {
        skipWhitespace()
        let rootOffset = index
        guard try peek() == 0x7B else {
            try skipValue(depth: outerDepth)
            try expectEnd()
            throw ScanError(.notAnObject, at: rootOffset)
        }
        return rootOffset
    }

    // MARK: Bytes

    @inlinable @inline(__always)
    var atEnd: Bool { index >= count }

    /// The byte at `index`, or an `.unexpectedEnd` error.
    @inlinable @inline(__always)
    func peek() throws(ScanError) -> UInt8 {
        guard index < count else { throw ScanError(.unexpectedEnd, at: count) }
        return base[index]
    }

    @inlinable @inline(__always)
    mutating func skipWhitespace() {
        while index < count {
            switch base[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after optional whitespace) or throws.
    @inlinable @inline(__always)
    mutating func expect(_ byte: UInt8) throws(ScanError) {
        skipWhitespace()
        guard try peek() == byte else { throw ScanError(.unexpectedByte, at: index) }
        index += 1
    }

    // MARK: Strings

    /// Scans the string whose opening quote is at `index`; leaves `index` after the
    /// closing quote and returns a view of the characters between the quotes.
    ///
    /// The bytes a string scan must stop at (`"`, `\\`, controls, non-ASCII) are classified
    /// 64 at a time into `stops`; a scan then jumps from stop to stop with a shift and a
    /// count of trailing zeros, and the block is reused by the strings that follow.
    @inlinable @inline(__always)
    mutating func scanString() throws(ScanError) -> ByteView {
        let start = index &+ 1
        var i = start
        var escaped = false
        while true {
            var offset = i &- stopsBase
            if UInt(bitPattern: offset) >= 64 {
                try loadStops(at: i)
                offset = 0
            }
            let ahead = stops &>> UInt64(truncatingIfNeeded: offset)
            if ahead == 0 {
                i = stopsBase &+ 64
                continue
            }
            i &+= ahead.trailingZeroBitCount
            guard i < count else { throw ScanError(.unexpectedEnd, at: count) }
            let byte = base[i]
            if byte == 0x22 {
                index = i &+ 1
                return ByteView(offset: start, length: i &- start, isEscaped: escaped)
            } else if byte == 0x5C {
                escaped = true
                index = i
                try scanEscape()
                i = index
            } else if byte >= 0x80 {
                index = i
                try scanUTF8Sequence(lead: byte)
                i = index
            } else {
                throw ScanError(.controlCharacter, at: i)
            }
        }
    }

    /// Classifies the 64 bytes from `position` (fewer at the end of the buffer; positions
    /// past the end count as stops).
    @inlinable
    mutating func loadStops(at position: Int) throws(ScanError) {
        let available = count &- position
        guard available > 0 else { throw ScanError(.unexpectedEnd, at: count) }
        stopsBase = position
        if available >= 64 {
            stops = sockeye_simd_string_stops64(base + position)
        } else if count >= 64 {
            // The buffer's last 64 bytes, shifted so bit 0 is `position`; no copy needed.
            let last = sockeye_simd_string_stops64(base + (count &- 64))
            stops = last &>> UInt64(64 &- available) | ~0 &<< UInt64(available)
        } else {
            stops = sockeye_simd_string_stops_tail(base + position, available)
        }
    }

    /// Validates one multi-byte UTF-8 sequence starting at `index` (RFC 3629 table 3-7:
    /// no overlongs, no encoded surrogates, nothing above U+10FFFF).
    @inlinable @inline(__always)
    mutating func scanUTF8Sequence(lead: UInt8) throws(ScanError) {
        let start = index
        let length: Int
        var secondLow: UInt8 = 0x80
        var secondHigh: UInt8 = 0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondLow = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondHigh = 0x9F
        case 0xF0: length = 4; secondLow = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondHigh = 0x8F
        default: throw ScanError(.invalidUTF8, at: start)
        }
        var i = start + 1
        let end = start + length
        while i < end {
            guard i < count else { throw ScanError(.unexpectedEnd, at: count) }
            let byte = base[i]
            let low: UInt8 = i == start + 1 ? secondLow : 0x80
            let high: UInt8 = i == start + 1 ? secondHigh : 0xBF
            guard byte >= low && byte <= high else { throw ScanError(.invalidUTF8, at: start) }
            i += 1
        }
        index = end
    }

    /// Validates the escape whose backslash is at `index` and steps over it. A `\u` high
    /// surrogate must be followed at once by a `\u` low surrogate.
    @inlinable
    mutating func scanEscape() throws(ScanError) {
        let start = index
        guard index + 1 < count else { throw ScanError(.unexpectedEnd, at: count) }
        switch base[index + 1] {
        case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:  // " \ / b f n r t
            index += 2
        case 0x75:  // u
            let unit = try hex4(at: index + 2, escapeStart: start)
            index += 6
            if unit >= 0xD800 && unit <= 0xDBFF {
                // Each byte of the expected `\u` is checked as soon as it is there: a frame
                // that ends right after the high half is an early end only if what is there
                // could still begin the low half.
                guard index < count else { throw ScanError(.unexpectedEnd, at: count) }
                guard base[index] == 0x5C else { throw ScanError(.loneSurrogate, at: start) }
                guard index + 1 < count else { throw ScanError(.unexpectedEnd, at: count) }
                guard base[index + 1] == 0x75 else { throw ScanError(.loneSurrogate, at: start) }
                let low = try hex4(at: index + 2, escapeStart: index)
                guard low >= 0xDC00 && low <= 0xDFFF else { throw ScanError(.loneSurrogate, at: start) }
                index += 6
            } else if unit >= 0xDC00 && unit <= 0xDFFF {
                throw ScanError(.loneSurrogate, at: start)
            }
        default:
            throw ScanError(.invalidEscape, at: start)
        }
    }

    /// The value of four hex digits at `position`.
    @inlinable
    func hex4(at position: Int, escapeStart: Int) throws(ScanError) -> UInt32 {
        guard position + 4 <= count else {
            // Report a bad digit that is already visible before reporting the early end.
            var i = position
            while i < count {
                if HexDigit.value(base[i]) == nil { throw ScanError(.invalidEscape, at: escapeStart) }
                i += 1
            }
            throw ScanError(.unexpectedEnd, at: count)
        }
        var value: UInt32 = 0
        for i in position..<(position + 4) {
            guard let digit = HexDigit.value(base[i]) else { throw ScanError(.invalidEscape, at: escapeStart) }
            value = value << 4 | digit
        }
        return value
    }

    // MARK: Numbers

    /// Scans a number at `index`. Returns its value when it is an integer (no fraction,
    /// no exponent) that fits in `Int64`, else `nil`.
    @inlinable
    mutating func scanNumber() throws(ScanError) -> Int64? {
        var negative = false
        if base[index] == 0x2D {  // -
            negative = true
            index += 1
        }
        guard index < count else { throw ScanError(.unexpectedEnd, at: count) }
        var magnitude: UInt64 = 0
        var fits = true
        let first = base[index]
        if first == 0x30 {
            index += 1
        } else if first >= 0x31 && first <= 0x39 {
            while index < count, case let digit = base[index] &- 0x30, digit <= 9 {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                if o1 || o2 { fits = false }
                magnitude = sum
                index += 1
            }
        } else {
            throw ScanError(.invalidNumber, at: index)
        }
        let integral = try scanNumberTail()
        guard integral && fits else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }

    /// Validates the number at `index` without computing its value (for skipped members).
    @inlinable
    mutating func skipNumber() throws(ScanError) {
        var i = index
        if base[i] == 0x2D { i &+= 1 }  // -
        guard i < count else { throw ScanError(.unexpectedEnd, at: count) }
        let first = base[i]
        if first == 0x30 {
            i &+= 1
        } else if first &- 0x31 <= 8 {
            i &+= 1
            while i < count && base[i] &- 0x30 <= 9 { i &+= 1 }
        } else {
            throw ScanError(.invalidNumber, at: i)
        }
        index = i
        guard i < count else { return }
        let next = base[i]
        if next == 0x2E || next == 0x65 || next == 0x45 {  // . e E
            _ = try scanNumberTail()
        }
    }

    /// The fraction and exponent of a number, if any, from `index`; whether there were none.
    @inlinable
    mutating func scanNumberTail() throws(ScanError) -> Bool {
        var integral = true
        if index < count && base[index] == 0x2E {  // .
            integral = false
            index += 1
            try scanDigits()
        }
        if index < count && (base[index] == 0x65 || base[index] == 0x45) {  // e E
            integral = false
            index += 1
            if index < count && (base[index] == 0x2B || base[index] == 0x2D) { index += 1 }
            try scanDigits()
        }
        return integral
    }

    /// One or more decimal digits.
    @inlinable
    mutating func scanDigits() throws(ScanError) {
        guard index < count else { throw ScanError(.unexpectedEnd, at: count) }
        guard base[index] &- 0x30 <= 9 else { throw ScanError(.invalidNumber, at: index) }
        index += 1
        while index < count && base[index] &- 0x30 <= 9 { index += 1 }
    }

    // MARK: Literals and values

    /// Scans `true`, `false` or `null` at `index`; returns the boolean, or `nil` for null.
    @inlinable
    mutating func scanLiteral() throws(ScanError) -> Bool? {
        let start = index
        let expected: StaticString
        let result: Bool?
        switch base[index] {
        case 0x74: expected = "true"; result = true
        case 0x66: expected = "false"; result = false
        default: expected = "null"; result = nil
        }
        let bytes = expected.utf8Start
        for i in 0..<expected.utf8CodeUnitCount {
            guard start + i < count else { throw ScanError(.unexpectedEnd, at: count) }
            guard base[start + i] == bytes[i] else { throw ScanError(.unexpectedByte, at: start + i) }
        }
        index = start + expected.utf8CodeUnitCount
        return result
    }

    /// Validates any JSON value at `index` (after optional whitespace). `depth` is the
    /// depth of the container holding it.
    @inlinable
    mutating func skipValue(depth: Int) throws(ScanError) {
        skipWhitespace()
        switch try peek() {
        case 0x22: _ = try scanString()
        case 0x7B: try skipObject(depth: depth + 1)
        case 0x5B: try skipArray(depth: depth + 1)
        case 0x74, 0x66, 0x6E: _ = try scanLiteral()
        case 0x2D, 0x30...0x39: try skipNumber()
        default: throw ScanError(.unexpectedByte, at: index)
        }
    }

    /// Throws `.depthExceeded` at `index` when a container at `depth` is too deep.
    @inlinable @inline(__always)
    func checkDepth(_ depth: Int) throws(ScanError) {
        if depth > maxDepth { throw ScanError(.depthExceeded, at: index) }
    }

    @inlinable
    mutating func skipObject(depth: Int) throws(ScanError) {
        try scanMembers(depth: depth) { (cursor: inout JSONCursor, _: ByteView) throws(ScanError) in
            try cursor.skipValue(depth: depth)
        }
    }

    @inlinable
    mutating func skipArray(depth: Int) throws(ScanError) {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        if try peek() == 0x5D {
            index += 1
            return
        }
        while true {
            try skipValue(depth: depth)
            skipWhitespace()
            let byte = try peek()
            index += 1
            if byte == 0x2C { continue }
            if byte == 0x5D { return }
            throw ScanError(.unexpectedByte, at: index - 1)
        }
    }

    /// Walks the object whose `{` is at `index` (at `depth`), calling `member` for each
    /// key with the cursor positioned before the value; `member` must consume the value.
    @inlinable @inline(__always)
    mutating func scanMembers(
        depth: Int,
        _ member: (inout JSONCursor, ByteView) throws(ScanError) -> Void
    ) throws(ScanError) {
        try checkDepth(depth)
        index += 1
        skipWhitespace()
        var byte = try peek()
        if byte == 0x7D {
            index += 1
            return
        }
        while true {
            guard byte == 0x22 else { throw ScanError(.unexpectedByte, at: index) }
            let key = try scanString()
            try expect(0x3A)  // :
            try member(&self, key)
            skipWhitespace()
            byte = try peek()
            index += 1
            if byte == 0x7D { return }
            guard byte == 0x2C else { throw ScanError(.unexpectedByte, at: index - 1) }
            skipWhitespace()
            byte = try peek()
        }
    }

    /// After the top-level value: only whitespace may follow.
    @inlinable
    mutating func expectEnd() throws(ScanError) {
        skipWhitespace()
        if index < count { throw ScanError(.trailingData, at: index) }
    }
}

/// Hex digit values.
@usableFromInline
enum HexDigit {
    @inlinable @inline(__always)
    static func value(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: UInt32(byte - 0x30)
        case 0x41...0x46: UInt32(byte - 0x41 + 10)
        case 0x61...0x66: UInt32(byte - 0x61 + 10)
        default: nil
        }
    }
}
