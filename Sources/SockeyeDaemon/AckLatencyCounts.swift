import SockeyeSinkKit
import Synchronization

/// Running counts of an app's ack latencies by `LatencyBuckets` bucket, since the app was
/// first started. The ack path adds with one relaxed atomic add (no lock, no allocation); the
/// history's sampler reads every bucket once per interval and takes the difference from its
/// last reading, so an interval's latencies are exactly the acks counted between two
/// readings and nothing is ever reset under a writer. Counts wrap only after 2^63 acks.
final class AckLatencyCounts: Sendable {
    private let counts: InlineArray<40, Atomic<Int>>

    init() {
        counts = InlineArray { _ in Atomic(0) }
    }

    /// Counts one ack that took `nanoseconds` from receipt.
    func record(nanoseconds: Int64) {
        counts[LatencyBuckets.index(nanoseconds: nanoseconds)].wrappingAdd(1, ordering: .relaxed)
    }

    /// Every bucket's count now (each read on its own: an ack counted meanwhile may be in
    /// this reading or the next, never lost).
    func read() -> [Int] {
        (0..<LatencyBuckets.count).map { counts[$0].load(ordering: .relaxed) }
    }
}
