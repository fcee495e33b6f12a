/// Where routed events go.
///
/// `accept` receives a batch (the events of one network read routed to this sink, in order)
/// and returns once they are as safe as this sink makes them: written to the file, committed
/// to the spool. The daemon acks an event only when every sink it was routed to accepted
/// it; an event a sink refused is nacked, so Slack redelivers it.
public protocol EventSink: AnyObject, Sendable {
    /// The name routes use.
    var name: String { get }
    /// Accepts `records`; the result says which were refused and why.
    func accept(_ records: [EventRecord]) async -> SinkOutcome
    /// Flushes and releases what the sink holds. Called once, at shutdown.
    func close() async
}

/// What a sink did with a batch.
public struct SinkOutcome: Sendable, Equatable {
    /// Indices (into the batch) of the records the sink refused.
    public var refused: [Int]
    /// Why, for the log and the status page (the first failure).
    public var error: String?
    /// Response payloads (a JSON object each) by index, for envelopes that accept one
    /// (slash commands, some interactive payloads): sent in the ack.
    public var responses: [Int: [UInt8]] = [:]

    /// An outcome with these refusals (and responses).
    public init(refused: [Int], error: String?, responses: [Int: [UInt8]] = [:]) {
        self.refused = refused
        self.error = error
        self.responses = responses
    }

    /// Every record accepted.
    public static let accepted = SinkOutcome(refused: [], error: nil)

    /// Every one of `count` records refused for `error`.
    public static func refusedAll(_ count: Int, _ error: String) -> SinkOutcome {
        SinkOutcome(refused: Array(0..<count), error: error)
    }
}
