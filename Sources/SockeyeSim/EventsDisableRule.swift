/// Slack's events disabling rule (docs/protocol.md, The events-disabling rule): when an app acknowledges fewer
/// than `minAckRatio` of at least `minDeliveries` event deliveries over the window
/// (60 minutes), delivery stops and an `app_rate_limited` event is sent.
///
/// A delivery counts when it settles (acked, or its deadline passed), so envelopes still
/// within their 3 s never count as unacknowledged. Time is in real seconds; the window is
/// split into 60 buckets. Slack applies the rule per app, so each app has its own.
struct EventsDisableRule {
    var window: Double
    var minDeliveries: Int
    var minAckRatio: Double
    private var buckets: [(delivered: Int, acked: Int)] = Array(repeating: (0, 0), count: 60)
    private var current = 0
    private var bucketStart: Double

    init(window: Double, minDeliveries: Int, minAckRatio: Double, now: Double) {
        self.window = window
        self.minDeliveries = minDeliveries
        self.minAckRatio = minAckRatio
        bucketStart = now
    }

    mutating func delivered() { buckets[current].delivered += 1 }
    mutating func acked() { buckets[current].acked += 1 }

    /// Settled event deliveries and acks in the window as of the last `violated(now:)`.
    var totals: (delivered: Int, acked: Int) {
        buckets.reduce((0, 0)) { ($0.0 + $1.delivered, $0.1 + $1.acked) }
    }

    /// Rotates buckets and reports whether the rule is violated right now.
    mutating func violated(now: Double) -> Bool {
        let width = window / 60
        var steps = 0
        while now - bucketStart >= width, steps < 60 {
            bucketStart += width
            current = (current + 1) % 60
            buckets[current] = (0, 0)
            steps += 1
        }
        if now - bucketStart >= width { bucketStart = now }
        guard minDeliveries > 0 else { return false }
        let (d, a) = totals
        return d >= minDeliveries && Double(a) < minAckRatio * Double(d)
    }
}
