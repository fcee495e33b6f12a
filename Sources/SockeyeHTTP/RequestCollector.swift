import NIOCore
import NIOHTTP1

/// The handler after NIO's HTTP/1 request decoder on a server connection: gathers each
/// request's head and body (up to the limit), answers `Expect: 100-continue`, refuses an
/// oversize body with 413 (and ends the connection, since the rest of the body is not read),
/// answers a request the decoder cannot parse with 400, and hands complete requests to the
/// server's handler on the event loop. Responses are written as raw bytes (no encoder in the
/// pipeline) in request order by `ServerConnection`; reads pause while
/// `ServerConnection.maxUnanswered` requests wait, and an idle connection is closed.
final class RequestCollector: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: HTTPServer.Limits
    private let handler: HTTPServer.Handler
    private let outbox: ResponseOutbox
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var refusing = false
    private var limit = 0
    private var connection: ServerConnection?
    private var idleCheck: RepeatedTask?

    init(limits: HTTPServer.Limits, outbox: ResponseOutbox, handler: @escaping HTTPServer.Handler) {
        self.limits = limits
        self.outbox = outbox
        self.handler = handler
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let connection = ServerConnection(channel: context.channel)
        self.connection = connection
        let timeout = limits.idleTimeout
        let bound = NIOLoopBound(connection, eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleRepeatedTask(initialDelay: timeout, delay: .seconds(1)) { _ in
            let connection = bound.value
            if connection.unanswered == 0, NIODeadline.now() - connection.lastActivity > timeout {
                connection.channel.close(promise: nil)
            }
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
        context.fireChannelInactive()
    }

    func read(context: ChannelHandlerContext) {
        if let connection, connection.unanswered >= ServerConnection.maxUnanswered {
            connection.readHeld = true
            return
        }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard let connection, !connection.ending else { return }
        connection.lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
            body.clear()
            refusing = false
            limit = limits.bodyLimit(received)
            if let length = received.headers.first(name: "content-length").flatMap(Int.init), length > limit {
                refuse(context, received)
                return
            }
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
            let sender = HTTPResponseSender(connection: NIOLoopBound(connection, eventLoop: context.eventLoop),
                                            sequence: connection.take(), keepAlive: head.isKeepAlive,
                                            isHead: head.method == .HEAD, outbox: outbox)
            handler(request, sender)
        }
    }

    /// 413, and the connection ends: the rest of the body is not read.
    private func refuse(_ context: ChannelHandlerContext, _ head: HTTPRequestHead) {
        refusing = true
        limits.onRefusedTooLarge(head)
        let response = HTTPServerResponse.text(.payloadTooLarge, "the body is larger than \(limit) bytes\n")
        connection?.fail(response.encoded(keepAlive: false, withBody: true))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            connection?.end()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let connection else { return context.close(promise: nil) }
        if error is HTTPParserError {
            connection.fail(HTTPServerResponse.text(.badRequest, "malformed HTTP request\n").encoded(keepAlive: false, withBody: true))
        } else {
            context.close(promise: nil)
        }
    }
}
