/// Where a worker takes its events from: a stream that delivers again what is not settled
/// (a JetStream durable consumer). The daemon's worker routes each delivery to its sinks and
/// settles it with what they did; the source decides when a failed one comes back and when it
/// goes to the dead letters.
///
/// Threading: `next` is called by one task at a time; `settle` may overlap it.
public protocol StreamSource: AnyObject, Sendable {
    /// The worker's name (logs, metrics, the status page).
    var name: String { get }
    /// Waits up to `wait` for up to `max` deliveries, in stream order; empty when none came.
    /// Throws when the stream cannot be read now (the worker pauses and asks again).
    func next(max: Int, wait: Duration) async throws(StreamSourceError) -> [StreamDelivery]
    /// Ends deliveries: a processed one is acknowledged; a failed one comes back after a
    /// pause, or goes to the dead letters once it has failed too often.
    func settle(_ outcomes: [(StreamDelivery, StreamSettlement)]) async
    /// How the source is doing, for the status page.
    var health: SinkHealth { get }
    /// Stops taking deliveries; those not settled come back to another consumer later.
    func close() async
}

/// One event delivered by a stream.
public struct StreamDelivery: Sendable {
    /// The event, read back from its line.
    public let record: EventRecord
    /// 1 for the first delivery, 2 for the first redelivery, …
    public let attempt: Int
    /// Which delivery this is, for the source that made it.
    public let token: UInt64

    public init(record: EventRecord, attempt: Int, token: UInt64) {
        self.record = record
        self.attempt = attempt
        self.token = token
    }
}

/// What became of a delivery in the worker's sinks.
public enum StreamSettlement: Sendable, Equatable {
    /// Every sink it was routed to took it (or no route wanted it).
    case processed
    /// Processed, and a sink answered it (a slash command's or an interaction's response,
    /// a JSON object): the source hands the answer to whoever waits for it.
    case answered([UInt8])
    /// A sink refused it, for this reason.
    case failed(String)
}

/// Why a stream cannot be read now.
public struct StreamSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
