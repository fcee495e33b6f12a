import NIOCore

/// The first handler of a server connection: sees the raw bytes before the HTTP decoder, so
/// the head deadline starts at a request's first byte (the decoder says nothing until the
/// head is complete).
final class ByteWatcher: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connection: ServerConnection

    init(connection: ServerConnection) { self.connection = connection }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connection.deadlines.bytesArrived(at: .now())
        context.fireChannelRead(data)
    }
}
