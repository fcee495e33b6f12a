import Synchronization

/// The answer an HTTP request to the ingress is waiting for: given once by the app runner
/// when the sinks are done (or at once for a duplicate, or when the app is stopping), and
/// passed to the listener's callback on the thread that gives it.
public final class HTTPReply: Sendable {
    /// What the listener sends back.
    public enum Answer: Sendable, Equatable {
        /// 200, with the sinks' response body for a slash command or interaction (JSON).
        case ack(response: [UInt8]?)
        /// A sink refused the event, or the daemon is stopping: 503, so Slack retries the
        /// event (a slash command or interaction fails for the user).
        case nack(String)
    }

    private let answered = Atomic<Bool>(false)
    private let onAnswer: @Sendable (Answer) -> Void

    /// A reply that calls `onAnswer` once.
    public init(onAnswer: @escaping @Sendable (Answer) -> Void) { self.onAnswer = onAnswer }

    /// Gives the answer; later calls are ignored.
    package func answer(_ answer: Answer) {
        guard !answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        onAnswer(answer)
    }
}
