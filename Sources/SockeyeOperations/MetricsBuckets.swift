/// Histogram buckets by metric, for the Prometheus export. A histogram not named here gets
/// swift-prometheus' defaults: 5 ms, 10 ms, 25 ms, 50 ms, 100 ms, 250 ms, 500 ms, 1 s, 2.5 s,
/// 5 s and 10 s (`sockeyed_sink_seconds`, `sockeyed_jetstream_batch_seconds`: a sink call is a
/// write, a transaction or a request, milliseconds to seconds).
enum MetricsBuckets {
    /// `sockeyed_ack_latency_seconds`: most acks leave well under a millisecond after their
    /// frame was read, and Slack's deadline is 3 s, so the buckets go from 100 µs to 3 s.
    static let ackLatency: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500),
        .milliseconds(1), .microseconds(2500), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(3),
    ]

    /// The buckets of each timer that does not use the defaults, by metric name.
    static let durations: [String: [Duration]] = [
        "sockeyed_ack_latency_seconds": ackLatency,
    ]
}
