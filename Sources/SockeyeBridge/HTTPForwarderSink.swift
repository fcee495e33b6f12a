import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import SockeyeCore
import SockeyeHTTP
import SockeyeSinkKit
import SockeyeSlackSignature
import Synchronization

/// The bridge: each event goes to an HTTP-mode app (one written for Slack's Request URLs)
/// exactly as Slack would have sent it there, so an app that cannot expose a public endpoint
/// runs unchanged behind Socket Mode.
///
/// - Events API: the payload as JSON; slash commands: their fields form-encoded;
///   interactivity: `payload=<JSON>` form-encoded; to the events, commands or actions URL.
/// - Headers: `X-Slack-Request-Timestamp`, `X-Slack-Signature` (v0, with the app's signing
///   secret), `X-Slack-Retry-Num` and `X-Slack-Retry-Reason` on a redelivery,
///   `Content-Type`, and a `User-Agent` naming Sockeye.
/// - Answer: 2xx acks; for a slash command or interaction its body becomes the ack's response
///   payload (JSON as it is, plain text as `{"text": …}`), if it comes within `timeout`;
///   after that the ack goes without it and the late body is logged. 5xx, other statuses,
///   a timeout or a refused connection nack (Slack redelivers, and the retry headers reach
///   the app), except `X-Slack-No-Retry: 1`, which acks and drops as Slack does.
///
/// Connections are kept alive and pooled by SockeyeHTTP's `HTTPConnectionPool`, for
/// `http://` and `https://` alike (one request at a time per connection, up to `concurrency`
/// connections per origin; TLS verifies the app's certificate and name against the system's
/// trust store, or against `ca_file`'s certificates alone). Each app using the sink has its
/// own limit of requests in progress (`concurrency`), so a slow app never stalls another. No
/// task per request: exchanges complete through callbacks and a batch resumes once, when its
/// last answer is in.
public final class HTTPForwarderSink: EventSink {
    public let name: String
    let settings: HTTPForwardSettings
    let logger: Logger
    private let secret: [UInt8]
    /// The events, commands and actions URLs' transports (the events one for a kind without
    /// its own URL).
    private let events: ForwardTransport
    private let commands: ForwardTransport
    private let actions: ForwardTransport
    /// One connection pool per origin (scheme, host and port), shared by the URLs on it.
    private let pools: [HTTPConnectionPool]
    private let limiters = Mutex<[String: CallbackLimiter]>([:])
    private let outcomes: [String: Counter]
    private let late = Counter(label: "sockeyed_forward_late_responses_total")
    /// Where the reply deadlines of slash commands and interactions run.
    private let timers: any EventLoop

    static let userAgent = "Sockeye-sockeyed/0.2 (+Socket Mode bridge)"
    /// A request still unanswered this long after its timeout is given up.
    static let hardLimit: TimeAmount = .seconds(30)

    /// A sink for `settings`. The URLs were checked when the configuration was read; one that
    /// does not parse here fails every request with its reason.
    public init(name: String, settings: HTTPForwardSettings, logger: Logger) {
        self.name = name
        self.settings = settings
        self.logger = logger
        secret = Array(settings.signingSecret.utf8)
        timers = MultiThreadedEventLoopGroup.singleton.next()
        let urls = [settings.eventsURL, settings.commandsURL ?? settings.eventsURL, settings.actionsURL ?? settings.eventsURL]
        let parsed = urls.map { text -> Swift.Result<EndpointURL, EndpointURLError> in
            do throws(EndpointURLError) { return .success(try EndpointURL(text)) } catch { return .failure(error) }
        }
        // The TLS settings, made once, at the first `https://` URL.
        var tls: Swift.Result<PoolTLS, PoolTLS.SetupError>?
        var pools: [String: HTTPConnectionPool] = [:]
        var transports: [ForwardTransport] = []
        for (text, result) in zip(urls, parsed) {
            let url: EndpointURL
            switch result {
            case .failure(let error):
                transports.append(.invalid("\(URLRedaction.url(text)): \(error)"))
                continue
            case .success(let parsedURL):
                url = parsedURL
            }
            var poolTLS: PoolTLS?
            if url.scheme.isSecure {
                let made = tls ?? Self.makeTLS(caFile: settings.caFile)
                if tls == nil, case .failure(let error) = made {
                    logger.error("the sink's https:// URLs cannot be used: every event for them is nacked",
                                 metadata: ["sink": .string(name), "reason": .string(error.description)])
                }
                tls = made
                switch made {
                case .success(let settings): poolTLS = settings
                case .failure(let error):
                    transports.append(.invalid("\(URLRedaction.url(text)): \(error)"))
                    continue
                }
            }
            let origin = "\(url.scheme.rawValue)://\(url.hostLiteral):\(url.port)"
            let pool = pools[origin] ?? HTTPConnectionPool(host: url.host, port: url.port, maxConnections: max(settings.concurrency, 1), tls: poolTLS)
            pools[origin] = pool
            transports.append(.pool(pool, target: url.requestTarget, hostHeader: url.hostHeader))
        }
        self.pools = Array(pools.values)
        events = transports[0]
        commands = transports[1]
        actions = transports[2]
        var outcomes: [String: Counter] = [:]
        for outcome in ["acked", "no_retry", "http_error", "timeout", "connection_failed"] {
            outcomes[outcome] = Counter(label: "sockeyed_forward_requests_total", dimensions: [("sink", name), ("outcome", outcome)])
        }
        self.outcomes = outcomes
    }

    /// TLS settings for the sink's `https://` URLs (the system's trust store, or `caFile`'s
    /// certificates alone), or why there are none.
    static func makeTLS(caFile: String?) -> Swift.Result<PoolTLS, PoolTLS.SetupError> {
        do throws(PoolTLS.SetupError) { return .success(try PoolTLS(caFile: caFile)) } catch { return .failure(error) }
    }

    /// What one request came to.
    enum Result: Sendable {
        case accepted(response: [UInt8]?)
        case refused(String)
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        guard let app = records.first?.app else { return .accepted }
        let limiter = limiters.withLock { limiters -> CallbackLimiter in
            if let existing = limiters[app] { return existing }
            let made = CallbackLimiter(settings.concurrency)
            limiters[app] = made
            return made
        }
        var outcome = await withCheckedContinuation { (continuation: CheckedContinuation<SinkOutcome, Never>) in
            let results = BatchResults(count: records.count) { continuation.resume(returning: $0) }
            for (index, record) in records.enumerated() {
                limiter.acquire {
                    self.forward(record) { result in
                        limiter.release()
                        results.set(index, result)
                    }
                }
            }
        }
        outcome.refused.sort()
        outcome.error = outcome.error.map { "sink \(name): \($0)" }
        return outcome
    }

    /// Sends `record`; `completion` gets what it came to. An event waits at most `timeout`
    /// for its answer (then it is nacked). A slash command or interaction is acked without a
    /// response at the timeout, since the user is still waiting, while the request goes on
    /// (up to `hardLimit` more); what comes later is logged.
    func forward(_ record: EventRecord, completion: @escaping @Sendable (Result) -> Void) {
        let (headers, body) = makeRequest(record)
        let transport = transport(record)
        let timeout = TimeAmount.milliseconds(BoundedTime.milliseconds(settings.timeoutSeconds))
        guard record.envelopeType != "events_api" else {
            return transport.post(headers: headers, body: body, timeout: timeout) { answer in
                completion(self.interpret(answer, record: record))
            }
        }
        let once = Once()
        let deadline = timers.scheduleTask(in: timeout) {
            guard once.take() else { return }
            self.outcomes["timeout"]?.increment()
            completion(.accepted(response: nil))
        }
        let hard = timeout + Self.hardLimit
        transport.post(headers: headers, body: body, timeout: hard) { [logger, late, name] answer in
            let result = self.interpret(answer, record: record)
            if once.take() {
                deadline.cancel()
                completion(result)
            } else {
                late.increment()
                logger.warning("the app answered after the ack deadline: its response was not sent", metadata: [
                    "sink": .string(name), "envelope_id": .string(record.envelopeID), "result": .string("\(result)"),
                ])
            }
        }
    }

    func interpret(_ answer: ForwardTransport.Answer, record: EventRecord) -> Result {
        switch answer {
        case .timeout:
            outcomes["timeout"]?.increment()
            return .refused("\(destination(record)): no answer within \(settings.timeoutSeconds) s")
        case .failed(let why):
            outcomes["connection_failed"]?.increment()
            return .refused("\(destination(record)): \(why)")
        case .oversize(let status, let description):
            // The status decides; the reply itself cannot be used.
            logger.warning("the app's answer was too large to read: acked or nacked by its status, without its reply",
                           metadata: ["sink": .string(name), "envelope_id": .string(record.envelopeID), "answer": .string(description)])
            return interpret(.response(status: status, headers: [], body: []), record: record)
        case .response(let status, let headers, let body):
            func header(_ name: String) -> String? { headers.first { $0.hasName(name) }?.value }
            if (200..<300).contains(status) {
                outcomes["acked"]?.increment()
                guard record.envelopeType != "events_api", !body.isEmpty else { return .accepted(response: nil) }
                let isJSON = header("content-type")?.lowercased().contains("json") == true
                    || body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == 0x7B
                if isJSON { return .accepted(response: body) }
                // A plain-text reply to a slash command is a message's text.
                return .accepted(response: FormEncoding.jsonObject(fromPairs: [("text", String(decoding: body, as: UTF8.self))]))
            }
            if header("x-slack-no-retry") == "1" {
                outcomes["no_retry"]?.increment()
                logger.notice("the app answered \(status) with X-Slack-No-Retry: 1: the event is acked and dropped",
                              metadata: ["sink": .string(name), "envelope_id": .string(record.envelopeID)])
                return .accepted(response: nil)
            }
            outcomes["http_error"]?.increment()
            return .refused("\(destination(record)) answered \(status)")
        }
    }

    /// Where `record` goes, as errors and logs name it (no credentials, no query).
    func destination(_ record: EventRecord) -> String {
        switch record.envelopeType {
        case "slash_commands": URLRedaction.url(settings.commandsURL ?? settings.eventsURL)
        case "interactive": URLRedaction.url(settings.actionsURL ?? settings.eventsURL)
        default: URLRedaction.url(settings.eventsURL)
        }
    }

    func transport(_ record: EventRecord) -> ForwardTransport {
        switch record.envelopeType {
        case "slash_commands": commands
        case "interactive": actions
        default: events
        }
    }

    /// The header fields and body Slack would have sent for `record` in HTTP mode.
    func makeRequest(_ record: EventRecord) -> (headers: [(String, String)], body: [UInt8]) {
        let body: [UInt8]
        let contentType: String
        let payload = record.payloadBytes
        switch record.envelopeType {
        case "slash_commands":
            body = payload.withUnsafeBytes { FormEncoding.encode(FormEncoding.pairs(fromJSONObject: $0) ?? []) }
            contentType = "application/x-www-form-urlencoded"
        case "interactive":
            body = payload.withUnsafeBytes { FormEncoding.encode(name: "payload", bytes: $0) }
            contentType = "application/x-www-form-urlencoded"
        default:
            body = payload
            contentType = "application/json"
        }
        let timestamp = String(Timestamp.nowMilliseconds() / 1000)
        var headers: [(String, String)] = [
            ("Content-Type", contentType),
            ("User-Agent", Self.userAgent),
            ("X-Slack-Request-Timestamp", timestamp),
            ("X-Slack-Signature", body.withUnsafeBytes { SlackRequestSignature.sign(secret: secret, timestamp: timestamp, body: $0) }),
        ]
        if record.retryAttempt > 0 {
            headers.append(("X-Slack-Retry-Num", String(record.retryAttempt)))
            if let reason = Self.retryReasonHeader(record.retryReason) { headers.append(("X-Slack-Retry-Reason", reason)) }
        }
        return (headers, body)
    }

    /// The longest retry reason passed on (Slack's are words like `http_timeout`).
    static let maxRetryReasonLength = 64

    /// The `X-Slack-Retry-Reason` value for an envelope's `retry_reason` (`timeout` when it
    /// has none), or nil when it is not one of Slack's tokens (`[a-z0-9_]`, at most
    /// `maxRetryReasonLength` long): the value comes from outside and must not put a CR, LF
    /// or anything else into the request's head.
    static func retryReasonHeader(_ reason: String?) -> String? {
        guard let reason else { return "timeout" }
        let utf8 = reason.utf8
        guard !utf8.isEmpty, utf8.count <= maxRetryReasonLength,
              utf8.allSatisfy({ (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }) else { return nil }
        return reason
    }

    public func close() async {
        for pool in pools { await pool.shutdown() }
    }

    public var health: SinkHealth {
        SinkHealth(kind: "http", figures: [("events", URLRedaction.url(settings.eventsURL)), ("concurrency", String(settings.concurrency))])
    }
}
