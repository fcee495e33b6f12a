/// Conversions of configured seconds for timers, which must never trap whatever the value:
/// NaN and negatives give 0, infinities and huge values the ceiling.
public enum BoundedTime {
    /// The longest timer this converts to: about 34 years, whose nanoseconds still fit an `Int64`.
    public static let maxMilliseconds: Int64 = 1 << 40

    /// `seconds` as whole milliseconds in `0...maxMilliseconds`.
    public static func milliseconds(_ seconds: Double) -> Int64 {
        let value = seconds * 1000
        guard value.isFinite else { return value > 0 ? maxMilliseconds : 0 }  // NaN compares false: 0
        guard value > 0 else { return 0 }
        return value >= Double(maxMilliseconds) ? maxMilliseconds : Int64(value)
    }

    /// `seconds` as a `Duration` of whole milliseconds (see `milliseconds(_:)`).
    public static func duration(_ seconds: Double) -> Duration {
        .milliseconds(milliseconds(seconds))
    }
}
