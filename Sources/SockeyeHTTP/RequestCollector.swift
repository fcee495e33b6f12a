import NIOCore
import NIOHTTP1

/// The handler after NIO's HTTP/1 request decoder on a server connection: screens each head
/// (a refusal is answered without reading the body, and the connection ends), gathers the
/// body up to the path's limit, answers `Expect: 100-continue`, refuses an oversize body
/// with 413 (and ends the connection, since the rest of the body is not read), answers a
/// request the decoder cannot parse with 400, and hands complete requests to the server's
/// handler on the event loop. Responses are written as raw bytes (no encoder in the
/// pipeline) in request order by `ServerConnection`; reads pause while
/// `ServerConnection.maxUnanswered` requests wait. A timer closes the connection when its
/// head, body or idle deadline (`ConnectionDeadlines`) runs out, and the last request
/// `maxRequestsPerConnection` allows is answered with `Connection: close`.
final class RequestCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: HTTPServer.Limits
    private let handler: HTTPServer.Handler
    private let outbox: ResponseOutbox
    private let connection: ServerConnection
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var refusing = false
    private var limit = 0
    private var deadlineCheck: RepeatedTask?

    init(limits: HTTPServer.Limits, connection: ServerConnection, outbox: ResponseOutbox, handler: @escaping HTTPServer.Handler) {
        self.limits = limits
        self.connection = connection
        self.outbox = outbox
        self.handler = handler
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let bound = NIOLoopBound(connection, eventLoop: context.eventLoop)
        let onRejected = limits.onRejected
        let tick = limits.tick
        deadlineCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: tick, delay: tick) { task in
            let connection = bound.value
            guard let expired = connection.deadlines.expired(at: .now()) else { return }
            task.cancel()
            switch expired {
            case .head: onRejected(.headTimeout)
            case .body: onRejected(.bodyTimeout)
            case .idle: break
            }
            connection.channel.close(promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadlineCheck?.cancel()
        deadlineCheck = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadlineCheck?.cancel()
        deadlineCheck = nil
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if connection.unanswered >= ServerConnection.maxUnanswered {
            connection.readHeld = true
            return
        }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !connection.ending else { return }
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
            body.clear()
            refusing = false
            if let refusal = limits.screen(received) {
                refusing = true
                limits.onRejected(refusal.reason)
                connection.fail(refusal.response.encoded(keepAlive: false, withBody: received.method != .HEAD))
                return
            }
            limit = max(0, limits.bodyLimit(received))
            let declared = received.headers.first(name: "content-length").map { Int($0) ?? Int.max }
            if let declared, declared > limit {
                refuse(context, received)
                return
            }
            connection.deadlines.headRead(at: .now(), bodyBytes: declared ?? (received.headers.contains(name: "transfer-encoding") ? limit : 0))
            if received.headers.first(name: "expect")?.lowercased() == "100-continue" {
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(staticString: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
            }
        case .body(var part):
            guard !refusing, let head else { return }
            guard body.readableBytes + part.readableBytes <= limit else {
                refuse(context, head)
                return
            }
            body.writeBuffer(&part)
        case .end:
            guard !refusing, let head else { return }
            self.head = nil
            let request = HTTPServerRequest(head: head, body: body)
            body = ByteBuffer()
            // The last request the limit allows: its answer closes the connection, and no
            // later request on it is read.
            let last = connection.nextSequence + 1 >= limits.maxRequestsPerConnection
            let sender = HTTPResponseSender(connection: NIOLoopBound(connection, eventLoop: context.eventLoop),
                                            sequence: connection.take(), keepAlive: head.isKeepAlive && !last,
                                            isHead: head.method == .HEAD, outbox: outbox)
            connection.deadlines.requestRead(at: .now(), unanswered: connection.unanswered)
            if last { connection.end() }
            handler(request, sender)
        }
    }

    /// 413, and the connection ends: the rest of the body is not read.
    private func refuse(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        refusing = true
        limits.onRefusedTooLarge(head)
        limits.onRejected(.tooLarge)
        let response = HTTPServerResponse.text(.payloadTooLarge, "the body is larger than \(limit) bytes\n")
        connection.fail(response.encoded(keepAlive: false, withBody: true))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            connection.end()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError {
            if !connection.ending { limits.onRejected(.malformed) }
            connection.fail(HTTPServerResponse.text(.badRequest, "malformed HTTP request\n").encoded(keepAlive: false, withBody: true))
        } else {
            context.close(promise: nil)
        }
    }
}
