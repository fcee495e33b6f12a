/// An app's recent past as the status page charts it: one sample per interval (10 s in
/// `sockeyed run`: the last hour), oldest first, a fixed number of them, nil where the app
/// took no sample (it was not running, or restarting) — a gap, never a zero.
public struct AppHistory: Sendable, Equatable {
    /// One interval's figures.
    public struct Sample: Sendable, Equatable {
        /// Events received per second over the interval.
        public var eventsPerSecond: Double
        /// The 99th percentile of the interval's ack latencies (receipt to ack), as the upper
        /// bound of its `LatencyBuckets` bucket; nil when nothing was acked.
        public var ackP99Nanoseconds: Int64?
        /// The fewest Socket Mode connections seen live during the interval.
        public var liveConnections: Int
        /// The connections the pool wanted at the interval's end.
        public var wantedConnections: Int

        public init(eventsPerSecond: Double, ackP99Nanoseconds: Int64?, liveConnections: Int, wantedConnections: Int) {
            self.eventsPerSecond = eventsPerSecond
            self.ackP99Nanoseconds = ackP99Nanoseconds
            self.liveConnections = liveConnections
            self.wantedConnections = wantedConnections
        }
    }

    /// How long each sample covers, in milliseconds.
    public var intervalMilliseconds: Int64
    /// When the newest interval ended (milliseconds since 1970): the right edge of a chart.
    public var endMilliseconds: Int64
    /// Oldest first; the last one ended at `endMilliseconds`.
    public var samples: [Sample?]

    public init(intervalMilliseconds: Int64, endMilliseconds: Int64, samples: [Sample?]) {
        self.intervalMilliseconds = intervalMilliseconds
        self.endMilliseconds = endMilliseconds
        self.samples = samples
    }

    /// How much time the samples cover, in milliseconds.
    public var spanMilliseconds: Int64 { intervalMilliseconds * Int64(samples.count) }

    /// When sample `index`'s interval ended (milliseconds since 1970).
    public func endMilliseconds(ofSample index: Int) -> Int64 {
        endMilliseconds - Int64(samples.count - 1 - index) * intervalMilliseconds
    }

    /// The newest sample, if the newest interval has one.
    public var latest: Sample? { samples.last ?? nil }
}
