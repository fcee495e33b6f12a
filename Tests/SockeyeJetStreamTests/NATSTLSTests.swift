import Foundation
import Logging
import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// TLS to a real nats-server (`--tls`, a certificate `openssl req` made for `localhost`).
@Suite("NATS over TLS: trusted, untrusted, wrong name", .serialized)
struct NATSTLSTests {
    /// A self-signed certificate for `localhost` and its key, in a fresh folder.
    private func certificate() throws -> (certificate: String, key: String) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-nats-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let (certificate, key) = (folder.appendingPathComponent("cert.pem").path, folder.appendingPathComponent("key.pem").path)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", key, "-out", certificate, "-days", "2", "-subj", "/CN=localhost",
                             "-addext", "subjectAltName=DNS:localhost"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl req failed")
        return (certificate, key)
    }

    private func tlsServer(_ files: (certificate: String, key: String)) throws -> NATSServer {
        try NATSServer(extra: ["--tls", "--tlscert", files.certificate, "--tlskey", files.key])
    }

    @Test("with the server's CA, events are stored over TLS")
    func trusted() async throws {
        let files = try certificate()
        let server = try tlsServer(files)
        defer { server.stop() }
        var cluster = ClusterSettings(servers: ["tls://localhost:\(server.port)"], node: "node")
        cluster.caFile = files.certificate
        let sink = try JetStreamSink(name: "js", settings: JetStreamSettings(stream: "SLACK"), cluster: cluster,
                                     logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        var outcome = await sink.accept([eventRecord(envelopeID: "env-1", eventID: "Ev1")])
        for _ in 0..<100 where outcome != .accepted {
            try await Task.sleep(for: .milliseconds(50))
            outcome = await sink.accept([eventRecord(envelopeID: "env-1", eventID: "Ev1")])
        }
        #expect(outcome == .accepted)
        await sink.close()
    }

    @Test("a server whose certificate is not trusted, or names another host, is never connected to")
    func refused() throws {
        let files = try certificate()
        let server = try tlsServer(files)
        defer { server.stop() }
        // No CA given: the system's CAs do not know this certificate.
        let untrusted = try CNatsConnection(cluster: ClusterSettings(servers: ["tls://localhost:\(server.port)"], node: "a"),
                                            answer: { _, _ in })
        defer { untrusted.close() }
        #expect(!untrusted.waitUntilConnected(seconds: 2))
        // Trusted, but reached as 127.0.0.1: the certificate names localhost only.
        var wrongName = ClusterSettings(servers: ["tls://127.0.0.1:\(server.port)"], node: "b")
        wrongName.caFile = files.certificate
        let mismatched = try CNatsConnection(cluster: wrongName, answer: { _, _ in })
        defer { mismatched.close() }
        #expect(!mismatched.waitUntilConnected(seconds: 2))
        // A plain connection to a server that requires TLS is refused as well.
        let plain = try CNatsConnection(cluster: ClusterSettings(servers: ["nats://127.0.0.1:\(server.port)"], node: "c"),
                                        answer: { _, _ in })
        defer { plain.close() }
        #expect(!plain.waitUntilConnected(seconds: 1))
    }

    @Test("a CA file that is not PEM is refused when the connection is made")
    func badCAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-nats-badca-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("ca.pem").path
        try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: path))
        var cluster = ClusterSettings(servers: ["tls://localhost:4222"], node: "a")
        cluster.caFile = path
        #expect(throws: JetStreamError.self) { _ = try CNatsConnection(cluster: cluster, answer: { _, _ in }) }
    }
}
