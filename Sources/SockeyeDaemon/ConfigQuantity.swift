/// Durations and sizes as a configuration writes them (`500ms`, `90s`, `7d`, `512MiB`), read
/// into numbers that are finite, positive and inside a caller's range, so nothing computed
/// from them later (milliseconds, `Duration`, `TimeAmount`, `Int64`) can overflow or trap.
///
/// The number is plain decimal: ASCII digits with at most one fraction part (`1.5h`). No sign,
/// exponent, `inf`, `nan`, hexadecimal or other numerals: `1e300s`, `infs` and `-0s` are
/// mistakes, not values.
public enum ConfigQuantity {
    /// The units of a duration and their length in seconds, longest suffix first.
    static let durationUnits: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86_400)]
    /// The units of a size and their bytes, longest suffix first.
    static let sizeUnits: [(String, Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("KB", 1e3), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12), ("B", 1),
    ]
    /// Digits before and after the point: enough for any sensible setting, and few enough
    /// that the value times any unit stays far from overflow.
    static let maxIntegerDigits = 15
    static let maxFractionDigits = 9

    /// A plain decimal number (`12`, `0.25`), or nil.
    static func decimal(_ text: Substring) -> Double? {
        let utf8 = text.utf8
        var integer = 0
        var fraction = 0
        var sawPoint = false
        for byte in utf8 {
            if byte == 0x2E {
                guard !sawPoint else { return nil }
                sawPoint = true
            } else if byte >= 0x30, byte <= 0x39 {
                if sawPoint { fraction += 1 } else { integer += 1 }
            } else {
                return nil
            }
        }
        guard integer >= 1, integer <= maxIntegerDigits, fraction <= maxFractionDigits, !sawPoint || fraction >= 1 else { return nil }
        return Double(String(text))
    }

    /// Seconds for a duration such as `500ms`, `90s`, `30m`, `12h` or `7d` when it lies in
    /// `range`; nil for anything else.
    public static func seconds(_ text: String, in range: ClosedRange<Double>) -> Double? {
        for (suffix, scale) in durationUnits where text.hasSuffix(suffix) {
            guard let value = decimal(text.dropLast(suffix.count)) else { return nil }
            let seconds = value * scale
            guard seconds.isFinite, seconds > 0, range.contains(seconds) else { return nil }
            return seconds
        }
        return nil
    }

    /// Bytes for a size such as `512MiB`, `2GiB`, `64KB` or `4096` (bytes) when it lies in
    /// `range`; nil for anything else. A fraction of a byte is dropped (`1.5KiB` is 1536).
    public static func bytes(_ text: String, in range: ClosedRange<Int64>) -> Int64? {
        var number = Substring(text)
        var scale: Double = 1
        if let unit = sizeUnits.first(where: { text.hasSuffix($0.0) }) {
            number = text.dropLast(unit.0.count)
            // `512 MiB` reads as well as `512MiB`.
            while number.last == " " { number = number.dropLast() }
            scale = unit.1
        }
        guard let value = decimal(number) else { return nil }
        let product = (value * scale).rounded(.down)
        // Compared as doubles first: only a value inside the range is converted.
        guard product.isFinite, product >= Double(range.lowerBound), product <= Double(range.upperBound) else { return nil }
        let bytes = Int64(product)
        return range.contains(bytes) ? bytes : nil
    }

    /// A duration range as people write it: `1ms to 1h`.
    public static func describe(seconds range: ClosedRange<Double>) -> String {
        "\(describe(seconds: range.lowerBound)) to \(describe(seconds: range.upperBound))"
    }

    /// A size range as people write it: `1B to 64MiB`.
    public static func describe(bytes range: ClosedRange<Int64>) -> String {
        "\(describe(bytes: range.lowerBound)) to \(describe(bytes: range.upperBound))"
    }

    static func describe(seconds: Double) -> String {
        if seconds < 1 { return "\(Int64((seconds * 1000).rounded()))ms" }
        for (suffix, scale) in durationUnits.reversed() where scale >= 1 {
            let count = seconds / scale
            if count >= 1, count == count.rounded() { return "\(Int64(count))\(suffix)" }
        }
        return "\(seconds)s"
    }

    static func describe(bytes: Int64) -> String {
        for (suffix, scale) in [("TiB", Int64(1) << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(suffix)"
        }
        return "\(bytes)B"
    }
}
