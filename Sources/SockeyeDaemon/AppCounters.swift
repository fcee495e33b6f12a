import Synchronization

/// One app's counts as the daemon sees them (the client's own counters are in
/// `SocketModeClient.stats`). Updated by the app's consumer, read by the status line, the
/// status page and the metrics, from any thread.
public final class AppCounters: Sendable {
    /// A consistent copy of the counts.
    public struct Snapshot: Sendable, Equatable {
        /// Events taken from the client and the ingress.
        public var received = 0
        /// Acked after every sink took them (or on receipt).
        public var acked = 0
        /// Nacked because a sink refused them (Slack redelivers them).
        public var nacked = 0
        /// Matched no route: acked and dropped.
        public var unrouted = 0
        /// No installation covers the event's workspace (apps installed by OAuth): acked
        /// and dropped.
        public var unauthorized = 0
        /// Authored by the app's own bot: acked and dropped (`ignore_own_messages`).
        public var ownMessages = 0
        /// Taken already over another channel or by an earlier HTTP attempt (apps with HTTP
        /// delivery): answered without the sinks.
        public var duplicates = 0
        /// Batches a sink refused.
        public var sinkFailures = 0
        /// The latest sink failure.
        public var lastError: String?
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) { state.withLock { body(&$0) } }
}
