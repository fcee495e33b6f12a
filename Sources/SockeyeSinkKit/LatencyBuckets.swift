/// Ack latencies in 40 fixed logarithmic buckets, two per power of two: bucket 0 holds
/// everything below 2^15 ns (about 33 µs), then each octave from 2^15 ns to 2^34 ns (about
/// 17 s) is split at 1.5 × its lower bound, and bucket 39 holds everything from 2^34 ns up.
/// A bucket is at most 1.5 times as wide as its lower bound, so a quantile read from the
/// counts is the true value or up to 50 % above it: enough for a chart, and the price of
/// finding a bucket with two shifts and no table.
public enum LatencyBuckets {
    /// How many buckets there are.
    public static let count = 40
    /// The lowest power of two with buckets of its own (2^15 ns ≈ 33 µs).
    static let firstExponent = 15
    /// The overflow bucket (2^34 ns ≈ 17 s and more).
    static let overflow = count - 1

    /// The bucket of a latency of `nanoseconds` (a negative one counts as 0).
    @inlinable
    public static func index(nanoseconds: Int64) -> Int {
        let value = UInt64(clamping: nanoseconds)
        let exponent = 63 - value.leadingZeroBitCount  // -1 for 0
        if exponent < 15 { return 0 }
        if exponent >= 34 { return 39 }
        let upperHalf = Int((value >> UInt64(exponent - 1)) & 1)
        return 1 + 2 * (exponent - 15) + upperHalf
    }

    /// The upper bound of bucket `index` in nanoseconds; for the overflow bucket, which has
    /// none, its lower bound (2^34 ns): a quantile there reads as "at least 17 s".
    public static func upperBound(of index: Int) -> Int64 {
        if index <= 0 { return 1 << firstExponent }
        if index >= overflow { return 1 << 34 }
        let exponent = firstExponent + (index - 1) / 2
        return (index - 1) % 2 == 0 ? (Int64(3) << (exponent - 1)) : (Int64(1) << (exponent + 1))
    }

    /// The upper bound, in nanoseconds, of the bucket holding the `fraction` quantile of the
    /// latencies counted in `counts` (one count per bucket); nil when nothing was counted.
    public static func quantile(_ fraction: Double, of counts: some Collection<Int>) -> Int64? {
        let total = counts.reduce(0) { $0 + max(0, $1) }
        guard total > 0 else { return nil }
        let rank = min(total, max(1, Int((Double(total) * fraction).rounded(.up))))
        var seen = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return upperBound(of: index) }
        }
        return upperBound(of: overflow)
    }
}
