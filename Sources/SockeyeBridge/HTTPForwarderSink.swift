import AsyncHTTPClient
import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import SockeyeDaemon
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
/// Connections are kept alive and pooled (async-http-client); each app using the sink has
/// its own limit of requests in progress (`concurrency`), so a slow app never stalls another.
public final class HTTPForwarderSink: EventSink {
    public let name: String
    let settings: HTTPForwardSettings
    let client: HTTPClient
    let logger: Logger
    private let secret: [UInt8]
    private let slots = Mutex<[String: AsyncSemaphore]>([:])
    private let outcomes: [String: Counter]
    private let late = Counter(label: "sockeyed_forward_late_responses_total")

    static let userAgent = "Sockeye-sockeyed/0.2 (+Socket Mode bridge)"
    /// A request still unanswered this long after its timeout is given up.
    static let hardLimit: Duration = .seconds(30)

    public init(name: String, settings: HTTPForwardSettings, logger: Logger) {
        self.name = name
        self.settings = settings
        self.logger = logger
        secret = Array(settings.signingSecret.utf8)
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: max(settings.concurrency, 1))
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        // No request spans: building their attributes cost about 5 % of a forwarded event.
        configuration.tracing.tracer = nil
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        var outcomes: [String: Counter] = [:]
        for outcome in ["acked", "no_retry", "http_error", "timeout", "connection_failed"] {
            outcomes[outcome] = Counter(label: "sockeyed_forward_requests_total", dimensions: [("sink", name), ("outcome", outcome)])
        }
        self.outcomes = outcomes
    }

    /// What one request came to.
    enum Result: Sendable {
        case accepted(response: [UInt8]?)
        case refused(String)
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        let app = records.first?.app ?? ""
        let semaphore = slots.withLock { slots -> AsyncSemaphore in
            if let existing = slots[app] { return existing }
            let made = AsyncSemaphore(settings.concurrency)
            slots[app] = made
            return made
        }
        var outcome = SinkOutcome(refused: [], error: nil)
        await withTaskGroup(of: (Int, Result).self) { group in
            for (index, record) in records.enumerated() {
                group.addTask {
                    await semaphore.acquire()
                    let result = await self.forward(record)
                    await semaphore.release()
                    return (index, result)
                }
            }
            for await (index, result) in group {
                switch result {
                case .accepted(let response):
                    if let response { outcome.responses[index] = response }
                case .refused(let why):
                    outcome.refused.append(index)
                    if outcome.error == nil { outcome.error = "sink \(name): \(why)" }
                }
            }
        }
        outcome.refused.sort()
        return outcome
    }

    /// Sends `record` and waits at most `timeout` for the answer.
    func forward(_ record: EventRecord) async -> Result {
        let request = makeRequest(record)
        guard record.envelopeType != "events_api" else {
            // An event has no reply to wait for past the timeout: the client's own deadline.
            return await exchange(request, record, timeout: .milliseconds(Int64(settings.timeoutSeconds * 1000)))
        }
        // A slash command or interaction: at the timeout the user is still waiting, so the ack
        // goes without a response while the request goes on; what comes later is logged.
        let timeout = Duration.milliseconds(Int(settings.timeoutSeconds * 1000))
        let exchange = Task { await self.exchange(request, record, timeout: .seconds(Int64(settings.timeoutSeconds.rounded(.up)) + 30)) }
        let result = await withTaskGroup(of: Result?.self) { group in
            group.addTask { await exchange.value }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if let result { return result }
        Task { [logger, late, name] in
            let lateResult = await exchange.value
            late.increment()
            logger.warning("the app answered after the ack deadline: its response was not sent", metadata: [
                "sink": .string(name), "envelope_id": .string(record.envelopeID), "result": .string("\(lateResult)"),
            ])
        }
        outcomes["timeout"]?.increment()
        return .accepted(response: nil)
    }

    /// One request and its answer, within `timeout`.
    private func exchange(_ request: HTTPClientRequest, _ record: EventRecord, timeout: TimeAmount) async -> Result {
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 1 << 20)
            return interpret(status: response.status, headers: response.headers, body: body, record: record)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            outcomes["timeout"]?.increment()
            return .refused("\(destination(record)): no answer within \(settings.timeoutSeconds) s")
        } catch {
            outcomes["connection_failed"]?.increment()
            return .refused("\(destination(record)): \(error)")
        }
    }

    func interpret(status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer, record: EventRecord) -> Result {
        if (200..<300).contains(status.code) {
            outcomes["acked"]?.increment()
            guard record.envelopeType != "events_api", body.readableBytes > 0 else { return .accepted(response: nil) }
            let bytes = Array(body.readableBytesView)
            let isJSON = headers.first(name: "content-type")?.lowercased().contains("json") == true
                || bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == 0x7B
            if isJSON { return .accepted(response: bytes) }
            // A plain-text reply to a slash command is a message's text.
            return .accepted(response: FormEncoding.jsonObject(fromPairs: [("text", String(decoding: bytes, as: UTF8.self))]))
        }
        if headers.first(name: "x-slack-no-retry") == "1" {
            outcomes["no_retry"]?.increment()
            logger.notice("the app answered \(status.code) with X-Slack-No-Retry: 1: the event is acked and dropped",
                          metadata: ["sink": .string(name), "envelope_id": .string(record.envelopeID)])
            return .accepted(response: nil)
        }
        outcomes["http_error"]?.increment()
        return .refused("\(destination(record)) answered \(status.code)")
    }

    func destination(_ record: EventRecord) -> String {
        switch record.envelopeType {
        case "slash_commands": settings.commandsURL ?? settings.eventsURL
        case "interactive": settings.actionsURL ?? settings.eventsURL
        default: settings.eventsURL
        }
    }

    /// The request Slack would have sent for `record` in HTTP mode.
    func makeRequest(_ record: EventRecord) -> HTTPClientRequest {
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
        let timestamp = String(Int(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: destination(record))
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "User-Agent", value: Self.userAgent)
        request.headers.add(name: "X-Slack-Request-Timestamp", value: timestamp)
        request.headers.add(name: "X-Slack-Signature",
                            value: body.withUnsafeBytes { SlackRequestSignature.sign(secret: secret, timestamp: timestamp, body: $0) })
        if record.retryAttempt > 0 {
            request.headers.add(name: "X-Slack-Retry-Num", value: String(record.retryAttempt))
            request.headers.add(name: "X-Slack-Retry-Reason", value: record.retryReason ?? "timeout")
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        return request
    }

    public func close() async {
        try? await client.shutdown()
    }

    public var health: SinkHealth {
        SinkHealth(kind: "http", figures: [("events", settings.eventsURL), ("concurrency", String(settings.concurrency))])
    }
}
