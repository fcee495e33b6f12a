import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A certificate and its key, made by `openssl req` in a temporary directory (removed by
/// `remove()`): self-signed, so a client trusts it only through a CA file naming it.
struct TestCertificate {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }

    /// A certificate for `subjectAltName` (`IP:127.0.0.1`, `DNS:other.example`, …).
    init(subjectAltName: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-tls-\(UInt64.random(in: 1...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=sockeye-test",
                             "-addext", "subjectAltName=\(subjectAltName)"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        guard openssl.terminationStatus == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "openssl req exited \(openssl.terminationStatus)"])
        }
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// An HTTPS/1.1 server on 127.0.0.1 (NIOSSL over NIO's HTTP/1 server, keep-alive): answers
/// `200` with `secure <path>`, or a 1.5 MiB body for `/big`. Counts only the requests that
/// carry `marker` (a client of another test may reach a port handed out again), and the
/// connections that carried one.
final class TLSTestServer: Sendable {
    static let markerHeader = "X-TLS-Server"
    let marker = "tls-\(UInt64.random(in: 1...UInt64.max))"
    let port: Int
    let counts: Counts
    private let channel: any Channel

    final class Counts: Sendable {
        let requests = Atomic<Int>(0)
        let connections = Atomic<Int>(0)
    }

    init(certificate: TestCertificate) async throws {
        let configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate.certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: certificate.key, format: .pem)))
        let context = try NIOSSLContext(configuration: configuration)
        let counts = Counts()
        let marker = marker
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Responder(counts: counts, marker: marker))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
        self.counts = counts
    }

    func stop() async { try? await channel.close() }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let counts: Counts
        let marker: String
        var path = ""
        var counted = false

        init(counts: Counts, marker: String) {
            self.counts = counts
            self.marker = marker
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                path = head.uri
                if head.headers[TLSTestServer.markerHeader].first == marker {
                    counts.requests.add(1, ordering: .relaxed)
                    if !counted { counts.connections.add(1, ordering: .relaxed) }
                    counted = true
                }
            case .body:
                break
            case .end:
                let body = path == "/big" ? ByteBuffer(repeating: 0x78, count: 3 << 19) : ByteBuffer(string: "secure \(path)")
                var headers = HTTPHeaders([("Content-Type", "text/plain")])
                headers.add(name: "Content-Length", value: String(body.readableBytes))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            // A client that refused the certificate ends the handshake: nothing to answer.
            context.close(promise: nil)
        }
    }
}
