/// Exponential backoff with a cap and jitter.
///
/// `nextDelay` grows `base × 2^attempt` up to `cap`, then draws a random delay:
/// - `.full` jitter: uniformly in `0...ceiling` — spreads reconnects of many clients best
///   (the AWS analysis); used for ordinary retryable failures;
/// - `.equal` jitter: `ceiling/2 + random(0...ceiling/2)` — never near zero; used where an
///   immediate retry is known to be harmful (`too_many_websockets`).
/// A server's `Retry-After` is a floor: the delay is never shorter.
public struct Backoff: Sendable, Hashable {
    /// How the random delay is drawn from the ceiling.
    public enum Jitter: Sendable, Hashable {
        case full
        case equal
    }

    /// The ceiling of the first retry.
    public var base: Duration
    /// The largest ceiling.
    public var cap: Duration
    /// How delays are drawn.
    public var jitter: Jitter
    /// Failures since the last success.
    public private(set) var attempt = 0

    /// A backoff starting at `base`, doubling up to `cap`.
    public init(base: Duration, cap: Duration, jitter: Jitter = .full) {
        self.base = base
        self.cap = max(cap, base)
        self.jitter = jitter
    }

    /// The ceiling for the current attempt: `min(cap, base × 2^attempt)`.
    public var ceiling: Duration {
        let doublings = min(attempt, 62)
        let baseNanos = base.nanosecondsClamped
        let (scaled, overflow) = baseNanos.multipliedReportingOverflow(by: Int64(1) << doublings)
        return overflow ? cap : min(cap, .nanoseconds(scaled))
    }

    /// Records a failure and returns how long to wait before the next try.
    public mutating func nextDelay(retryAfter: Duration? = nil, using random: inout some RandomNumberGenerator) -> Duration {
        let ceiling = self.ceiling
        attempt += 1
        let fraction = Double(random.next() >> 11) / Double(1 << 53)
        let delay: Duration =
            switch jitter {
            case .full: ceiling.scaled(by: fraction)
            case .equal: ceiling / 2 + (ceiling / 2).scaled(by: fraction)
            }
        if let retryAfter, retryAfter > delay { return retryAfter }
        return delay
    }

    /// Records a success: the next failure starts from `base` again.
    public mutating func reset() { attempt = 0 }
}

/// A token bucket limiting calls to `apps.connections.open`.
///
/// Slack's docs disagree on the method's rate tier (Tier 1, about one call a minute, or
/// Tier 3); the pool is built for the strict case (docs/protocol.md). The bucket allows a burst
/// (enough to open a whole pool at start) and then one call per `refill` sustained.
public struct RequestRateLimiter: Sendable, Hashable {
    /// The most calls that may be made back to back.
    public let burst: Int
    /// One token is added per `refill`.
    public let refill: Duration
    private var tokens: Double
    private var updated: Instant

    /// A full bucket of `burst` tokens at `now`.
    public init(burst: Int, refill: Duration, now: Instant) {
        self.burst = max(1, burst)
        self.refill = refill
        self.tokens = Double(max(1, burst))
        self.updated = now
    }

    private mutating func update(_ now: Instant) {
        guard now > updated else { return }
        let refillNanos = Double(max(1, refill.nanosecondsClamped))
        tokens = min(Double(burst), tokens + Double(now.nanoseconds - updated.nanoseconds) / refillNanos)
        updated = now
    }

    /// Takes a token if one is available at `now`.
    public mutating func tryAcquire(now: Instant) -> Bool {
        update(now)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }

    /// When the next token will be available (now, if one is).
    public mutating func nextAvailable(now: Instant) -> Instant {
        update(now)
        if tokens >= 1 { return now }
        let missing = 1 - tokens
        return now + .nanoseconds(Int64(missing * Double(refill.nanosecondsClamped)) + 1)
    }
}
