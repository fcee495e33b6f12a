import Glibc

/// The one monotonic clock: CLOCK_MONOTONIC in nanoseconds. The core's `Instant`, the C
/// ABI's ack latencies, the Swift API's event ages and `ServiceLock`'s timed waits all read
/// it, so their times compare. (The core itself reads no clock: time is passed in.)
package enum MonotonicClock {
    /// Nanoseconds since an arbitrary fixed point (boot); never goes back.
    @inlinable
    package static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }

    /// `now()` plus `milliseconds` (not negative), saturating instead of overflowing.
    @inlinable
    package static func deadline(afterMilliseconds milliseconds: Int32) -> UInt64 {
        let (sum, overflow) = now().addingReportingOverflow(UInt64(max(milliseconds, 0)) &* 1_000_000)
        return overflow ? .max : sum
    }
}
