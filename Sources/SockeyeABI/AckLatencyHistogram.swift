/// Receipt → host-ack latencies in microseconds, in logarithmic buckets (8 per power of
/// two: every bucket's width is at most 12.5 % of its lower bound), so percentiles cost a
/// fixed 520 counters per client and no allocation per ack. Not thread-safe: the owner
/// locks.
struct AckLatencyHistogram {
    private static let subBuckets = 8
    private static let bucketCount = 16 + 63 * subBuckets
    private var counts = [UInt64](repeating: 0, count: AckLatencyHistogram.bucketCount)
    private(set) var total: UInt64 = 0
    private(set) var maximum: UInt64 = 0

    mutating func record(microseconds value: UInt64) {
        counts[Self.bucket(of: value)] += 1
        total += 1
        maximum = max(maximum, value)
    }

    /// The upper bound of the bucket holding the `fraction` quantile; 0 when empty.
    func percentile(_ fraction: Double) -> UInt64 {
        guard total > 0 else { return 0 }
        let rank = max(1, UInt64((Double(total) * fraction).rounded(.up)))
        var seen: UInt64 = 0
        for (index, count) in counts.enumerated() where count > 0 {
            seen += count
            if seen >= rank { return min(Self.upperBound(of: index), maximum) }
        }
        return maximum
    }

    private static func bucket(of value: UInt64) -> Int {
        if value < 16 { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount  // >= 4
        let mantissa = Int((value >> (exponent - 3)) & 7)
        return 16 + (exponent - 4) * subBuckets + mantissa
    }

    private static func upperBound(of index: Int) -> UInt64 {
        if index < 16 { return UInt64(index) }
        let exponent = (index - 16) / subBuckets + 4
        let mantissa = UInt64((index - 16) % subBuckets)
        let low = (UInt64(8) | mantissa) << (exponent - 3)
        return low + (UInt64(1) << (exponent - 3)) - 1
    }
}
