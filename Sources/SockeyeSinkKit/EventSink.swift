import Foundation

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
    /// How the sink is doing now, for the status page (default: a healthy sink of no
    /// particular kind).
    var health: SinkHealth { get }
    /// Opens its file again under the same path (SIGHUP, after a log rotation moved the old
    /// one away); nil when done or nothing to reopen, else why the old file is still used.
    func reopen() async -> String?
}

extension EventSink {
    public var health: SinkHealth { SinkHealth(kind: "sink") }
    /// Nothing to reopen.
    public func reopen() async -> String? { nil }
}

/// A sink's state as the status page shows it: what it is, whether it is refusing events
/// now and why (with what to do), and figures worth a glance (a spool's depth).
public struct SinkHealth: Sendable, Equatable {
    /// `stdout`, `file`, `command`, `spool` …
    public var kind: String
    /// Why the sink refuses events now (they are nacked, Slack redelivers), nil when it
    /// takes them.
    public var problem: String?
    /// Since when it refuses them (wall clock).
    public var since: Date?
    /// Short figures, in display order: `("events", "1204")`.
    public var figures: [(String, String)]

    public init(kind: String, problem: String? = nil, since: Date? = nil, figures: [(String, String)] = []) {
        self.kind = kind
        self.problem = problem
        self.since = since
        self.figures = figures
    }

    public static func == (lhs: SinkHealth, rhs: SinkHealth) -> Bool {
        lhs.kind == rhs.kind && lhs.problem == rhs.problem && lhs.since == rhs.since
            && lhs.figures.map(\.0) == rhs.figures.map(\.0) && lhs.figures.map(\.1) == rhs.figures.map(\.1)
    }
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
