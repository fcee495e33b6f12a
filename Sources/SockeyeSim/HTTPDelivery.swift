import Foundation

/// The HTTP twin of Socket Mode delivery: the same payloads POSTed to the app's Request
/// URL, signed like Slack (v0), events retried with `X-Slack-Retry-Num` /
/// `X-Slack-Retry-Reason` (up to 3, `X-Slack-No-Retry: 1` honoured), slash commands
/// form-encoded and interactivity as a `payload=` form field. Runs on its own threads.
public final class HTTPDelivery: @unchecked Sendable {
    /// Counters of the HTTP delivery mode.
    public struct Counters: Codable, Sendable, Equatable {
        /// POST attempts made (first tries and retries).
        public var attempts = 0
        /// Payloads answered with 2xx.
        public var acked = 0
        public var retries = 0
        /// Events that failed after the last retry, plus commands/interactions that failed.
        public var failed = 0
        /// Failures the app asked not to retry (`X-Slack-No-Retry: 1`).
        public var noRetry = 0
        public var timeouts = 0
        public var connectionFailures = 0
        public var latencyMs = LatencySummary()
    }

    public let requestURL: String
    public let signingSecret: String
    let config: SimConfig
    private let lock = NSLock()
    private var counters = Counters()
    private var latency = LatencyRecorder()
    private var outstanding = 0
    private let queue = DispatchQueue(label: "sockeye-sim.http-delivery", attributes: .concurrent)
    /// Overrides the clock used for `X-Slack-Request-Timestamp` (tests).
    var timestamp: @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }

    public init(requestURL: String, signingSecret: String, config: SimConfig) {
        self.requestURL = requestURL
        self.signingSecret = signingSecret
        self.config = config
    }

    /// A snapshot of the counters.
    public var snapshot: Counters {
        lock.lock(); defer { lock.unlock() }
        var c = counters
        c.latencyMs = latency.summary
        return c
    }

    /// Deliveries not yet finished (including scheduled retries).
    public var inFlight: Int { lock.lock(); defer { lock.unlock() }; return outstanding }

    /// The request body and content type Slack uses for `template`.
    public static func body(for template: PayloadTemplate, eventNumber: UInt64) -> (body: [UInt8], contentType: String) {
        let payload = template.render(eventNumber: eventNumber)
        switch template.type {
        case .eventsAPI:
            return (payload, "application/json")
        case .interactive:
            return (Array(("payload=" + formEscape(String(decoding: payload, as: UTF8.self))).utf8), "application/x-www-form-urlencoded")
        case .slashCommands:
            let obj = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] ?? [:]
            let fields = obj.keys.sorted().map { k in "\(formEscape(k))=\(formEscape("\(obj[k]!)"))" }
            return (Array(fields.joined(separator: "&").utf8), "application/x-www-form-urlencoded")
        }
    }

    static func formEscape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s).replacingOccurrences(of: "%20", with: "+")
    }

    /// Delivers one payload (asynchronously, with retries).
    public func deliver(_ template: PayloadTemplate, eventNumber: UInt64) {
        lock.lock(); outstanding += 1; lock.unlock()
        let (body, contentType) = Self.body(for: template, eventNumber: eventNumber)
        attempt(body: body, contentType: contentType, isEvent: template.type == .eventsAPI, attempt: 0, reason: nil)
    }

    private func attempt(body: [UInt8], contentType: String, isEvent: Bool, attempt: Int, reason: String?) {
        queue.async { [self] in
            let ts = String(timestamp())
            var headers: [(String, String)] = [
                ("Content-Type", contentType),
                ("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"),
                ("X-Slack-Request-Timestamp", ts),
                ("X-Slack-Signature", SlackSignature.sign(secret: signingSecret, timestamp: ts, body: body)),
            ]
            if let reason { headers += [("X-Slack-Retry-Num", String(attempt)), ("X-Slack-Retry-Reason", reason)] }
            let start = Date()
            let outcome: HTTPRetryPolicy.Outcome
            do {
                let r = try HTTPPoster.post(url: requestURL, headers: headers, body: body, timeout: config.ackDeadline)
                outcome = .status(r.status, noRetry: r.headers["x-slack-no-retry"] == "1")
            } catch HTTPPoster.Failure.timeout {
                outcome = .timeout
            } catch {
                outcome = .connectionFailed
            }
            let decision = HTTPRetryPolicy.decide(attempt: attempt, outcome: outcome, isEvent: isEvent, delays: config.retryDelays)
            lock.lock()
            counters.attempts += 1
            if attempt > 0 { counters.retries += 1 }
            if outcome == .timeout { counters.timeouts += 1 }
            if outcome == .connectionFailed { counters.connectionFailures += 1 }
            switch decision {
            case .acked:
                counters.acked += 1
                latency.record(microseconds: UInt64(Date().timeIntervalSince(start) * 1_000_000))
                outstanding -= 1
            case .failed(let noRetry):
                counters.failed += 1
                if noRetry { counters.noRetry += 1 }
                outstanding -= 1
            case .retry:
                break
            }
            lock.unlock()
            if case .retry(let next, let delay, let why) = decision {
                queue.asyncAfter(deadline: .now() + config.real(delay)) { [self] in
                    self.attempt(body: body, contentType: contentType, isEvent: isEvent, attempt: next, reason: why)
                }
            }
        }
    }

    /// Sends Slack's `url_verification` challenge; true when the app echoed it back
    /// (plain text, `challenge=` form or JSON `{"challenge":…}`).
    public func verifyURL() -> Bool {
        lock.lock()
        let challenge = EnvelopeID.random(&rngBox.rng).description.replacingOccurrences(of: "-", with: "")
        lock.unlock()
        let body = Array(#"{"token":"sim-verification-token","challenge":"\#(challenge)","type":"url_verification"}"#.utf8)
        let ts = String(timestamp())
        let headers = [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", ts),
                       ("X-Slack-Signature", SlackSignature.sign(secret: signingSecret, timestamp: ts, body: body))]
        guard let r = try? HTTPPoster.post(url: requestURL, headers: headers, body: body, timeout: config.ackDeadline),
              (200..<300).contains(r.status) else { return false }
        let text = String(decoding: r.body, as: UTF8.self)
        if text == challenge || text == "challenge=\(challenge)" { return true }
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any]
        return obj?["challenge"] as? String == challenge
    }

    private var rngBox = RNGBox()
    final class RNGBox { var rng = FastRandom() }
}
