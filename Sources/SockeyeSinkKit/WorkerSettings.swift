/// A worker's settings (the top-level `workers:` list, docs/cluster.md): it consumes a
/// JetStream stream with a durable pull consumer and hands the events to sinks by its routes,
/// acknowledging each in the stream once its sinks took it.
public struct WorkerSettings: Sendable, Equatable {
    /// Unique among workers; logs, metrics, the dead letters' subject.
    public var name: String
    /// The stream to consume.
    public var stream: String
    /// The subjects taken (a NATS filter, wildcards allowed).
    public var filter = "slack.>"
    /// The durable consumer's name on the server: workers on several nodes with the same
    /// durable share its events (each event goes to one of them).
    public var durable: String
    /// Which events go to which sinks, as an app's routes.
    public var routes: [Route]
    /// Deliveries of one event before it goes to the dead letters.
    public var maxDeliver = 5
    /// Pauses before each redelivery of a failed event; the last one repeats.
    public var backoffSeconds: [Double] = [1, 10, 60]
    /// How long the server waits for a settlement before it delivers an event again (a worker
    /// that died holding it).
    public var ackWaitSeconds: Double = 30
    /// Events fetched at once.
    public var batch = 256

    public static let maxDeliverRange: ClosedRange<Int> = 1...100
    public static let batchRange: ClosedRange<Int> = 1...4096

    public init(name: String, stream: String, routes: [Route]) {
        self.name = name
        self.stream = stream
        durable = name
        self.routes = routes
    }

    /// The stream the dead letters of workers on `stream` go to, and its subjects.
    public static func deadLetterStream(of stream: String) -> String { stream + "_DEAD" }
    public static func deadLetterSubjects(of stream: String) -> String { "sockeye_dead.\(stream).>" }
    /// The subject of this worker's dead letters.
    public var deadLetterSubject: String { "sockeye_dead.\(stream).\(name)" }
}
