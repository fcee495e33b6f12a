import Foundation
import Logging
import Metrics
import NIOCore
import NIOPosix
import SockeyeHTTP
import SockeyeSinkKit
import SockeyeSlackSignature

/// HTTP ingress: Slack's requests to HTTP-mode apps (`delivery: http` or `both`) on the
/// public listener (`PublicServer`), at each app's configured paths (`/slack/events`,
/// `/slack/commands`, `/slack/actions` by default).
///
/// Each request is checked before anything else reads it: body size (413, by the server
/// before the body is read: `bodyLimit`), the v0 signature with the app's signing secret
/// and a 5-minute window (401), then the body (400). A valid request's event joins the app's
/// batch loop like a Socket Mode envelope; the answer is 200 once the sinks took it (with
/// the response a sink gave for a slash command or interaction), 503 when one refused it
/// (Slack retries events). Runs on the connection's event loop and never blocks it: the
/// response is sent when the sinks answer. Every request is counted in
/// `sockeyed_ingress_requests_total{app,kind,outcome}`; refusals are logged through the
/// listener's rate limit (`ListenerRejections`), since anyone can send them.
struct Ingress: Sendable {
    /// The process that runs the apps (the daemon).
    let daemon: any OperationsHost
    let logger: Logger
    /// The listener's refusal counters and rate-limited log.
    let rejections: ListenerRejections
    /// The listener's event loops' batchers (the listener runs on NIO's shared group).
    let batchers: [ObjectIdentifier: SubmitBatcher]

    init(daemon: any OperationsHost, logger: Logger, rejections: ListenerRejections, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.daemon = daemon
        self.logger = logger
        self.rejections = rejections
        batchers = SubmitBatcher.perLoop(of: group)
    }

    /// The body limit for a request to `path`: the app's `max_body`, or nil when no app
    /// takes requests there.
    func bodyLimit(path: Substring) -> Int? {
        daemon.ingressRoute(String(path))?.maxBodyBytes
    }

    /// Counts a request refused for its size.
    func refusedTooLarge(path: Substring) {
        guard let route = daemon.ingressRoute(String(path)) else { return }
        let target = route.app
        target.countIngress(route.kinds.first, "too_large")
        rejections.warn(key: "\(target.name)/too_large", "ingress refused a request",
                        ["app": .string(target.name), "reason": "the body is larger than the limit"])
    }

    func handle(_ request: HTTPServerRequest, _ sender: HTTPResponseSender) {
        let path = String(request.path)
        guard let route = daemon.ingressRoute(path) else {
            return sender.send(.text(.notFound, "no app takes requests at \(path)\n"))
        }
        let (target, kinds) = (route.app, route.kinds)
        let app = target.name
        let now = Timestamp.nowMilliseconds()
        let verdict = request.body.withUnsafeReadableBytes { bytes in
            SlackRequestSignature.verify(secret: target.signingSecretBytes, timestamp: request.header("X-Slack-Request-Timestamp"),
                                         signature: request.header("X-Slack-Signature"), body: bytes, now: now / 1000)
        }
        guard verdict == .valid else {
            target.countIngress(kinds.first, verdict.reason)
            rejections.count(.unauthorized)
            rejections.warn(key: "\(app)/\(verdict.reason)", "ingress refused a request",
                            ["app": .string(app), "reason": .string(verdict.description)])
            return sender.send(.text(.unauthorized, "\(verdict.description)\n"))
        }
        let kind = request.body.withUnsafeReadableBytes { Self.kind(of: $0, among: kinds) }
        let reading = request.body.withUnsafeReadableBytes { bytes in
            IngressRequest.read(bytes, kind: kind, app: app, retryNumber: request.header("X-Slack-Retry-Num"),
                                retryReason: request.header("X-Slack-Retry-Reason"), receivedAtMilliseconds: now,
                                authorizer: target.authorizer)
        }
        switch reading {
        case .invalid(let why):
            target.countIngress(kind, "malformed")
            rejections.warn(key: "\(app)/malformed", "ingress: not a request Slack sends", ["app": .string(app), "reason": .string(why)])
            sender.send(.text(.badRequest, "\(why)\n"))
        case .urlVerification(let challenge):
            target.countIngress(kind, "url_verification")
            logger.notice("ingress: answered Slack's URL verification", metadata: ["app": .string(app), "path": .string(path)])
            sender.send(.text(.ok, challenge))
        case .notice(let message):
            target.countIngress(kind, "notice")
            logger.warning("\(message)", metadata: ["app": .string(app)])
            sender.send(.text(.ok, ""))
        case .event(let record):
            let onAnswer: @Sendable (HTTPReply.Answer) -> Void = { answer in
                switch answer {
                case .ack(let response):
                    target.countIngress(kind, "acked")
                    guard let response, !response.isEmpty else { return sender.send(.text(.ok, "")) }
                    sender.send(HTTPServerResponse(status: .ok, contentType: "application/json", body: ByteBuffer(bytes: response)))
                case .nack(let why):
                    target.countIngress(kind, "nacked")
                    sender.send(.text(.serviceUnavailable, "\(why)\n"))
                }
            }
            if let batcher = batchers[ObjectIdentifier(sender.eventLoop)] {
                batcher.submit(record, to: target, onAnswer: onAnswer)
            } else {
                target.submit([(record, onAnswer)])
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

}
