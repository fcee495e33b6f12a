/// Decides when a client stops and resumes reading its connections, from the number of
/// deliveries waiting in the consumer's queue (handed over, not taken yet).
///
/// At `limit` reading stops: bytes stay in the kernel's buffers and TCP pushes back on Slack,
/// which redelivers what it could not send after its deadline. Reading resumes once the
/// consumer has drained the queue to `resumeBelow`, so a consumer working near the bound does
/// not flip the sockets on and off for every event. The messages already read when the limit
/// is reached are still delivered (one read per connection at most), so the queue's depth
/// can pass `limit` by that much, never more.
public struct IntakeGate: Sendable, Hashable {
    /// Depth at which reading stops.
    public let limit: Int
    /// Depth below which reading resumes.
    public let resumeBelow: Int
    /// Deliveries handed over and not taken yet.
    public private(set) var depth = 0
    /// The highest depth seen.
    public private(set) var peakDepth = 0
    /// Whether reading is stopped.
    public private(set) var paused = false
    /// Times reading stopped.
    public private(set) var pauses = 0

    /// A gate stopping at `limit` (at least 1) and resuming below `limit / 2` (at least 1).
    public init(limit: Int) {
        self.limit = max(1, limit)
        resumeBelow = max(1, self.limit / 2)
    }

    /// A delivery was handed to the consumer's queue. Returns true when reading must stop now.
    public mutating func handedOver() -> Bool {
        depth += 1
        peakDepth = max(peakDepth, depth)
        guard !paused, depth >= limit else { return false }
        paused = true
        pauses += 1
        return true
    }

    /// The consumer took a delivery. Returns true when reading must resume now.
    public mutating func taken() -> Bool {
        depth = max(0, depth - 1)
        guard paused, depth < resumeBelow else { return false }
        paused = false
        return true
    }
}
