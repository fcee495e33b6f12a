/// Decides the size of a dynamic pool from its measured load.
///
/// Load is measured per *live* connection on every evaluation (every
/// `resizeEvaluationInterval`): unacknowledged envelopes, and envelopes delivered per second
/// since the previous evaluation. The pool grows by one when either figure stays above its
/// threshold for `growAfter`, and shrinks by one when both stay below half of their
/// thresholds for `shrinkAfter` — the gap between the two bands, the two durations and the
/// `resizeCooldown` after every resize keep a load hovering near a threshold from flapping
/// the pool. "Stays" means every evaluation in that time saw it; one evaluation outside the
/// band restarts the count. A resize also restarts both counts, so the next decision is
/// made on load measured with the new size.
///
/// The sizer knows nothing of connections; the controller applies its decisions.
struct PoolSizer {
    /// What an evaluation decided.
    enum Decision: Equatable {
        case grow(reason: String)
        case shrink(reason: String)
    }

    let minimum: Int
    let maximum: Int
    let growInFlight: Int
    let growRate: Int
    let growAfter: Duration
    let shrinkAfter: Duration
    let cooldown: Duration
    let interval: Duration

    /// Connections wanted, `minimum...maximum`.
    private(set) var size: Int
    /// When the next evaluation is due; `nil` until `start`, and always for a static pool.
    private(set) var nextEvaluationAt: Instant?
    private var highSince: Instant?
    private var lowSince: Instant?
    private var lastResizeAt: Instant?
    private var lastEvaluationAt = Instant.zero
    private var deliveredAtLastEvaluation = 0

    init(_ configuration: PoolConfiguration) {
        minimum = configuration.poolSize
        maximum = configuration.effectiveMaxPoolSize
        growInFlight = configuration.growInFlightPerConnection
        growRate = configuration.growRatePerConnection
        growAfter = configuration.growAfter
        shrinkAfter = configuration.shrinkAfter
        cooldown = configuration.resizeCooldown
        interval = configuration.resizeEvaluationInterval
        size = minimum
    }

    /// Whether the pool may change size at all.
    var isDynamic: Bool { maximum > minimum }

    /// Arms the first evaluation (dynamic pools only).
    mutating func start(now: Instant, delivered: Int) {
        guard isDynamic else { return }
        lastEvaluationAt = now
        deliveredAtLastEvaluation = delivered
        nextEvaluationAt = now + interval
    }

    /// Measures the load at `now` and decides. `delivered` is the running count of
    /// delivered envelopes, `inFlight` the unacknowledged ones, `live` the live
    /// connections; `mayGrow` is false while `too_many_websockets` holds the pool back.
    /// A decision is already applied to `size` when returned.
    mutating func evaluate(now: Instant, inFlight: Int, delivered: Int, live: Int, mayGrow: Bool) -> Decision? {
        guard isDynamic else {
            nextEvaluationAt = nil
            return nil
        }
        nextEvaluationAt = now + interval
        let elapsed = now - lastEvaluationAt
        let deliveredSince = delivered - deliveredAtLastEvaluation
        lastEvaluationAt = now
        deliveredAtLastEvaluation = delivered
        guard live > 0, elapsed > .zero else {
            // Nothing to divide by: no measurement, and no streak survives the gap.
            highSince = nil
            lowSince = nil
            return nil
        }
        let elapsedNanoseconds = max(1, elapsed.nanosecondsClamped)
        // Per live connection; multiplied out first so small rates keep their precision.
        let rate = Int(clamping: Int64(deliveredSince).multipliedReportingOverflow(by: 1_000_000_000).partialValue
            / elapsedNanoseconds) / live
        let inFlightPer = inFlight / live
        let high = inFlight > growInFlight * live || rate > growRate
        let low = inFlight * 2 < growInFlight * live && rate * 2 < growRate
        highSince = high ? (highSince ?? now) : nil
        lowSince = low ? (lowSince ?? now) : nil
        if let lastResizeAt, now - lastResizeAt < cooldown { return nil }
        if let since = highSince, now - since >= growAfter, mayGrow, size < maximum {
            let figure =
                inFlight > growInFlight * live
                ? "in-flight \(inFlightPer) per connection > \(growInFlight)"
                : "rate \(rate)/s per connection > \(growRate)/s"
            return resized(to: size + 1, now: now, decision: .grow(reason: "\(figure) for \(wholeSeconds(now - since)) s"))
        }
        if let since = lowSince, now - since >= shrinkAfter, size > minimum {
            let reason =
                "in-flight \(inFlightPer) per connection < \(growInFlight / 2) and rate \(rate)/s per connection < "
                + "\(growRate / 2)/s for \(wholeSeconds(now - since)) s"
            return resized(to: size - 1, now: now, decision: .shrink(reason: reason))
        }
        return nil
    }

    private mutating func resized(to newSize: Int, now: Instant, decision: Decision) -> Decision {
        size = newSize
        lastResizeAt = now
        highSince = nil
        lowSince = nil
        return decision
    }

    private func wholeSeconds(_ duration: Duration) -> Int64 { duration.components.seconds }
}
