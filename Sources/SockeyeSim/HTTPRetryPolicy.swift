/// What HTTP delivery does after one POST attempt (Slack's Events API retry rules).
public enum HTTPRetryPolicy {
    /// How one attempt ended.
    public enum Outcome: Equatable, Sendable {
        case status(Int, noRetry: Bool)
        case timeout
        case connectionFailed
    }
    public enum Decision: Equatable, Sendable {
        case acked
        /// Retry number `attempt` (1…3) after `delay` protocol seconds, with this reason.
        case retry(attempt: Int, delay: Double, reason: String)
        /// Given up: `noRetry` when the app asked for it with `X-Slack-No-Retry: 1`.
        case failed(noRetry: Bool)
    }

    /// `attempt` is 0 for the first delivery. Only Events API deliveries are retried;
    /// slash commands and interactivity fail at once (the user sees an error).
    public static func decide(attempt: Int, outcome: Outcome, isEvent: Bool, delays: [Double]) -> Decision {
        let reason: String
        switch outcome {
        case .status(let s, _) where (200..<300).contains(s): return .acked
        case .status(_, let noRetry) where noRetry: return .failed(noRetry: true)
        case .status: reason = "http_error"
        case .timeout: reason = "http_timeout"
        case .connectionFailed: reason = "connection_failed"
        }
        guard isEvent, attempt < delays.count else { return .failed(noRetry: false) }
        return .retry(attempt: attempt + 1, delay: delays[attempt], reason: reason)
    }
}
