/// A point on a monotonic clock, in nanoseconds from an arbitrary origin.
///
/// The core has no clock of its own: the host passes `now` into every call, so tests drive
/// time by hand and production passes a monotonic clock reading (e.g. `CLOCK_MONOTONIC`).
public struct Instant: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Nanoseconds from the clock's origin.
    public var nanoseconds: UInt64

    /// The instant `nanoseconds` after the origin.
    @inlinable public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    /// The origin.
    public static let zero = Instant(nanoseconds: 0)

    @inlinable public static func < (a: Instant, b: Instant) -> Bool { a.nanoseconds < b.nanoseconds }

    /// `instant` moved forward by `duration` (saturating; negative durations move back).
    @inlinable
    public static func + (instant: Instant, duration: Duration) -> Instant {
        let delta = duration.nanosecondsClamped
        if delta >= 0 {
            let (sum, overflow) = instant.nanoseconds.addingReportingOverflow(UInt64(delta))
            return Instant(nanoseconds: overflow ? .max : sum)
        }
        let magnitude = UInt64(-delta)
        return Instant(nanoseconds: instant.nanoseconds > magnitude ? instant.nanoseconds - magnitude : 0)
    }

    /// The time from `other` to `self` (negative when `other` is later).
    @inlinable
    public static func - (instant: Instant, other: Instant) -> Duration {
        if instant >= other { return .nanoseconds(Int64(clamping: instant.nanoseconds - other.nanoseconds)) }
        return .nanoseconds(-Int64(clamping: other.nanoseconds - instant.nanoseconds))
    }

    public var description: String { "t+\(Double(nanoseconds) / 1e9)s" }
}

extension Duration {
    /// The duration in whole nanoseconds, clamped to `Int64`.
    @inlinable
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        return scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }

    /// `self × factor`, for factors in 0...1 (jitter, fractions of a lifetime).
    func scaled(by factor: Double) -> Duration {
        .nanoseconds(Int64(Double(nanosecondsClamped) * min(max(factor, 0), 1)))
    }
}

/// A small, fast, seedable generator (SplitMix64) for deterministic tests and simulations.
/// Not for secrets.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// A generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
