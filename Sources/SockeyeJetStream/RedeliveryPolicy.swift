/// What to do with a delivery the worker's sinks failed: have the stream deliver it again
/// after a pause, or move it to the dead letters. Pure; the worker source carries it out.
///
/// The pause before redelivery `n + 1` is `backoff[n - 1]`, the last entry repeating. After
/// `maxDeliver` failed deliveries the event goes to the dead letters (and is acknowledged in
/// the stream), so one event that no sink can take does not hold the worker's retries for ever.
package struct RedeliveryPolicy: Sendable, Equatable {
    package var maxDeliver: Int
    package var backoff: [Duration]

    package enum Decision: Sendable, Equatable {
        /// Deliver it again after this pause.
        case retry(after: Duration)
        /// Give up on it: to the dead letters.
        case deadLetter
    }

    package init(maxDeliver: Int, backoff: [Duration]) {
        self.maxDeliver = max(1, maxDeliver)
        self.backoff = backoff.isEmpty ? [.seconds(1)] : backoff
    }

    /// The decision for a delivery that failed on its `attempt`-th delivery (1-based).
    package func decide(failedAttempt attempt: Int) -> Decision {
        guard attempt < maxDeliver else { return .deadLetter }
        return .retry(after: backoff[min(max(attempt, 1), backoff.count) - 1])
    }
}
