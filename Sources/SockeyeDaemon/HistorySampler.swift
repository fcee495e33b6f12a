import SockeyeSinkKit

/// Turns an app's periodic readings (its sampler's, about once a second and at each
/// interval's end) into one history sample per wall-clock interval: events per second from
/// the received count, the ack latency p99 from the latency buckets counted in the interval,
/// the fewest live connections read in it and the connections wanted. No clock of its own:
/// it is given the time with each reading.
struct HistorySampler {
    /// What the app's sampler reads each time.
    struct Reading {
        /// Milliseconds since 1970.
        var nowMilliseconds: Int64
        /// Events received since the app's instance started.
        var received: Int
        var liveConnections: Int
        var wantedConnections: Int
        /// `AckLatencyCounts.read()`.
        var latencies: [Int]
    }

    let intervalMilliseconds: Int64
    /// The interval in progress and what was read at its start (nil before the first reading).
    private var slot: Int64?
    private var start: Reading?
    private var fewestLive = 0
    private var wanted = 0

    init(intervalMilliseconds: Int64) {
        precondition(intervalMilliseconds > 0)
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// Takes a reading; once the reading is past the interval in progress, returns that
    /// interval's slot and sample (covering from its first reading to this one: the first
    /// interval after a start is a partial one) and begins the next. Intervals with no
    /// reading at all get no sample (gaps). A clock that went back starts over.
    mutating func observe(_ reading: Reading) -> (slot: Int64, sample: AppHistory.Sample)? {
        let now = HistoryRing.floorDivide(reading.nowMilliseconds, intervalMilliseconds)
        guard let current = slot, let start, now >= current else {
            begin(reading, slot: now)
            return nil
        }
        guard now > current else {
            fewestLive = min(fewestLive, reading.liveConnections)
            wanted = reading.wantedConnections
            return nil
        }
        let elapsed = reading.nowMilliseconds - start.nowMilliseconds
        let events = max(0, reading.received - start.received)
        let rate = elapsed > 0 ? Double(events) * 1000 / Double(elapsed) : 0
        var counted: [Int] = []
        counted.reserveCapacity(LatencyBuckets.count)
        for (now, then) in zip(reading.latencies, start.latencies) { counted.append(max(0, now &- then)) }
        let sample = AppHistory.Sample(eventsPerSecond: rate, ackP99Nanoseconds: LatencyBuckets.quantile(0.99, of: counted),
                                       liveConnections: fewestLive, wantedConnections: wanted)
        begin(reading, slot: now)
        return (current, sample)
    }

    /// Milliseconds from `nowMilliseconds` until the interval in progress ends.
    func millisecondsToNextInterval(from nowMilliseconds: Int64) -> Int64 {
        intervalMilliseconds - HistoryRing.floorModulo(nowMilliseconds, intervalMilliseconds)
    }

    private mutating func begin(_ reading: Reading, slot: Int64) {
        self.slot = slot
        start = reading
        fewestLive = reading.liveConnections
        wanted = reading.wantedConnections
    }
}
