import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import NIOCore
import SockeyeDaemon

/// HTTP ingress: Slack's requests to HTTP-mode apps (`delivery: http` or `both`) on the
/// operations listener, at each app's configured paths (`/slack/events`,
/// `/slack/commands`, `/slack/actions` by default).
///
/// Each request is checked before anything else reads it: body size (413), the v0 signature
/// with the app's signing secret and a 5-minute window (401), then the body (400). A valid
/// request's event goes through the app's routes and sinks like a Socket Mode envelope; the
/// answer is 200 once the sinks took it (with the response a sink gave for a slash command
/// or interaction), 503 when one refused it (Slack retries events). Every request is
/// counted in `sockeyed_ingress_requests_total{app,kind,outcome}`.
struct Ingress: Sendable {
    let daemon: Daemon
    let logger: Logger

    func handle(_ request: Request) async -> Response {
        let path = request.uri.path
        guard let (runner, kinds) = daemon.ingressTarget(path) else {
            return Self.text(.notFound, "no app takes requests at \(path)\n")
        }
        let app = runner.settings.name
        let limit = runner.settings.ingress.maxBodyBytes
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            count(app, kinds.first, "too_large")
            return Self.text(.contentTooLarge, "the body is larger than \(limit) bytes\n")
        }
        let now = Int64(Date().timeIntervalSince1970)
        let secret = Array((runner.settings.signingSecret ?? "").utf8)
        let verdict = body.withUnsafeReadableBytes { bytes in
            SlackRequestSignature.verify(secret: secret, timestamp: request.headers[Self.timestampHeader],
                                         signature: request.headers[Self.signatureHeader], body: bytes, now: now)
        }
        guard verdict == .valid else {
            count(app, kinds.first, verdict.reason)
            logger.warning("ingress refused a request", metadata: ["app": .string(app), "path": .string(path),
                                                                   "reason": .string(verdict.description)])
            return Self.text(.unauthorized, "\(verdict.description)\n")
        }
        let kind = body.withUnsafeReadableBytes { Self.kind(of: $0, among: kinds) }
        let reading = body.withUnsafeReadableBytes { bytes in
            IngressRequest.read(bytes, kind: kind, app: app, retryNumber: request.headers[Self.retryNumberHeader],
                                retryReason: request.headers[Self.retryReasonHeader],
                                receivedAtMilliseconds: Int64(Date().timeIntervalSince1970 * 1000))
        }
        switch reading {
        case .invalid(let why):
            count(app, kind, "malformed")
            logger.warning("ingress: not a request Slack sends", metadata: ["app": .string(app), "path": .string(path), "reason": .string(why)])
            return Self.text(.badRequest, "\(why)\n")
        case .urlVerification(let challenge):
            count(app, kind, "url_verification")
            logger.notice("ingress: answered Slack's URL verification", metadata: ["app": .string(app), "path": .string(path)])
            return Self.text(.ok, challenge)
        case .notice(let message):
            count(app, kind, "notice")
            logger.warning("\(message)", metadata: ["app": .string(app)])
            return Self.text(.ok, "")
        case .event(let record):
            switch await runner.deliver(record) {
            case .ack(let response):
                count(app, kind, "acked")
                guard let response, !response.isEmpty else { return Self.text(.ok, "") }
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: ResponseBody(byteBuffer: ByteBuffer(bytes: response)))
            case .nack(let why):
                count(app, kind, "nacked")
                return Self.text(.serviceUnavailable, "\(why)\n")
            }
        }
    }

    /// Which Request URL a request is, when an app gives one path for several: JSON is an
    /// event, a form with `payload` an interaction, another form a slash command.
    static func kind(of body: UnsafeRawBufferPointer, among kinds: [IngressRequest.Kind]) -> IngressRequest.Kind {
        guard kinds.count > 1 else { return kinds[0] }
        if body.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }) == 0x7B, kinds.contains(.events) { return .events }
        if body.starts(with: "payload=".utf8) || body.firstRange(of: "&payload=".utf8) != nil, kinds.contains(.actions) { return .actions }
        return kinds.contains(.commands) ? .commands : kinds[0]
    }

    func count(_ app: String, _ kind: IngressRequest.Kind?, _ outcome: String) {
        Counter(label: "sockeyed_ingress_requests_total",
                dimensions: [("app", app), ("kind", kind?.rawValue ?? "unknown"), ("outcome", outcome)]).increment()
    }

    static let timestampHeader = HTTPField.Name("X-Slack-Request-Timestamp")!
    static let signatureHeader = HTTPField.Name("X-Slack-Signature")!
    static let retryNumberHeader = HTTPField.Name("X-Slack-Retry-Num")!
    static let retryReasonHeader = HTTPField.Name("X-Slack-Retry-Reason")!

    static func text(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
