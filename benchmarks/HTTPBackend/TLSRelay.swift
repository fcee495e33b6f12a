import NIOCore
import NIOPosix
import NIOSSL

/// The backend's `https://` face for the forwarder benchmark's https row: a TLS listener on
/// 127.0.0.1 whose connections are each relayed, decrypted, to the plain HTTP server on its
/// own loopback port. The relay costs the backend some CPU; the figure the row reports is
/// sockeyed's, whose TLS is the part being measured.
enum TLSRelay {
    /// Listens with `certificate` and `key` (PEM files); returns the port.
    static func start(certificate: String, key: String, innerPort: Int, group: any EventLoopGroup) async throws -> Int {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        let context = try NIOSSLContext(configuration: configuration)
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // Nothing is read (not even the handshake) until the inner connection is glued on.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                let loop = inbound.eventLoop
                return ClientBootstrap(group: loop)
                    .channelOption(.socketOption(.tcp_nodelay), value: 1)
                    .connect(host: "127.0.0.1", port: innerPort)
                    .flatMapThrowing { outbound in
                        let outer = Glue(), inner = Glue()
                        outer.partner = inner
                        inner.partner = outer
                        try inbound.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                        try inbound.pipeline.syncOperations.addHandler(outer)
                        try outbound.pipeline.syncOperations.addHandler(inner)
                    }
                    .flatMap { inbound.setOption(.autoRead, value: true) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return listener.localAddress?.port ?? 0
    }

    /// One side of a relayed connection: what it reads goes to its partner's channel; when
    /// either side closes, so does the other. Both sides run on one event loop.
    final class Glue: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var partner: Glue?
        private var context: ChannelHandlerContext?

        func handlerAdded(context: ChannelHandlerContext) { self.context = context }
        func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { partner?.context?.write(data, promise: nil) }
        func channelReadComplete(context: ChannelHandlerContext) { partner?.context?.flush() }

        func channelInactive(context: ChannelHandlerContext) {
            partner?.context?.close(promise: nil)
            partner = nil
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
    }
}
