import CSockeyeSimSSL

/// Slack's v0 request signature: `v0=` + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
public enum SlackSignature {
    public static func sign(secret: String, timestamp: String, body: [UInt8]) -> String {
        let base = Array("v0:\(timestamp):".utf8) + body
        var mac = [UInt8](repeating: 0, count: 32)
        let key = Array(secret.utf8)
        let rc = key.withUnsafeBytes { k in base.withUnsafeBytes { m in
            sockeye_sim_hmac_sha256(k.baseAddress, k.count, m.baseAddress, m.count, &mac)
        } }
        precondition(rc == 0, "HMAC-SHA256 failed")
        return "v0=" + mac.map { b in String(b, radix: 16).leftPad(2) }.joined()
    }
}

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
