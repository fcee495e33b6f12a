import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTLS
import NIOSSL
import ServiceLifecycle
import SockeyeBridge
import SockeyeDaemon
import SockeyeSinkKit
import SockeyeSlackSignature
import Synchronization
import Testing

/// An HTTP-mode app behind https on 127.0.0.1 (Hummingbird over swift-nio-ssl) with a
/// certificate `openssl req` made for the test: counts the requests whose signature checks.
final class TLSBackendApp: Sendable {
    let directory: URL
    var certificate: String { directory.appendingPathComponent("cert.pem").path }
    var key: String { directory.appendingPathComponent("key.pem").path }
    let port = Mutex<Int?>(nil)
    let signed = Atomic<Int>(0)
    let unsigned = Atomic<Int>(0)
    let secret: String

    /// A self-signed certificate for `subjectAltName` (`IP:127.0.0.1`, `DNS:other.example`).
    init(secret: String, subjectAltName: String) throws {
        self.secret = secret
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-fwd-tls-\(UInt64.random(in: 1...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        openssl.arguments = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", directory.appendingPathComponent("key.pem").path,
                             "-out", directory.appendingPathComponent("cert.pem").path,
                             "-days", "2", "-subj", "/CN=sockeye-forwarder-test", "-addext", "subjectAltName=\(subjectAltName)"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        try #require(openssl.terminationStatus == 0, "openssl req failed")
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    func service() throws -> some ServiceLifecycle.Service {
        let router = Router()
        router.post("**") { [self] request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let timestamp = request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!] ?? ""
            let signature = request.headers[HTTPField.Name("X-Slack-Signature")!] ?? ""
            let valid = SlackRequestSignature.sign(secret: Array(secret.utf8), timestamp: timestamp, body: Array(body.readableBytesView)) == signature
            if valid { signed.add(1, ordering: .relaxed) } else { unsigned.add(1, ordering: .relaxed) }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "")))
        }
        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
        return Application(router: router, server: try .tls(.http1(), tlsConfiguration: tls),
                           configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { [self] channel in port.withLock { $0 = channel.localAddress?.port } })
    }
}

/// The forwarder to `https://` apps, through the same connection pool as `http://`: with the
/// app's CA in `ca_file` events go through; an untrusted certificate or one for another name
/// refuses the event (it is nacked, Slack redelivers) with the TLS reason, and no request
/// reaches the app.
@Suite("sockeyed HTTP forwarder over https", .serialized)
struct ForwarderTLSTests {
    static let secret = "forwarder-tls-secret"

    /// Runs `body` with an https app for `subjectAltName` and the URL of its events path.
    func withApp(_ subjectAltName: String, _ body: (TLSBackendApp, String) async throws -> Void) async throws {
        let app = try TLSBackendApp(secret: Self.secret, subjectAltName: subjectAltName)
        defer { app.remove() }
        let service = try app.service()
        let server = Task { try await service.run() }
        defer { server.cancel() }
        #expect(await eventually { app.port.withLock { $0 } != nil })
        let port = try #require(app.port.withLock { $0 })
        try await body(app, "https://127.0.0.1:\(port)/slack/events")
    }

    @Test("with the app's certificate in ca_file, events go through, signed")
    func trusted() async throws {
        try await withApp("IP:127.0.0.1") { app, url in
            var settings = HTTPForwardSettings(eventsURL: url, signingSecret: Self.secret, timeoutSeconds: 20)
            settings.caFile = app.certificate
            let sink = HTTPForwarderSink(name: "forward", settings: settings, logger: quietLogger)
            for index in 0..<3 {
                let outcome = await sink.accept([ingressRecord(eventID: "Ev0TLS\(index)")])
                #expect(outcome.refused.isEmpty && outcome.error == nil, "\(outcome)")
            }
            #expect(app.signed.load(ordering: .relaxed) == 3)
            #expect(app.unsigned.load(ordering: .relaxed) == 0)
            await sink.close()
        }
    }

    @Test("a certificate the system's trust store does not hold: the event is refused with the TLS reason, no request arrives")
    func untrusted() async throws {
        try await withApp("IP:127.0.0.1") { app, url in
            let sink = HTTPForwarderSink(name: "forward", settings: HTTPForwardSettings(eventsURL: url, signingSecret: Self.secret, timeoutSeconds: 20),
                                         logger: quietLogger)
            let outcome = await sink.accept([ingressRecord(eventID: "Ev0TLSBAD1"), ingressRecord(eventID: "Ev0TLSBAD2")])
            #expect(outcome.refused == [0, 1], "\(outcome)")
            #expect(outcome.error?.contains("CERTIFICATE_VERIFY_FAILED") == true, "\(String(describing: outcome.error))")
            #expect(app.signed.load(ordering: .relaxed) + app.unsigned.load(ordering: .relaxed) == 0)
            await sink.close()
        }
    }

    @Test("a trusted certificate for another name: the event is refused with the TLS reason, no request arrives")
    func wrongName() async throws {
        try await withApp("DNS:other.example") { app, url in
            var settings = HTTPForwardSettings(eventsURL: url, signingSecret: Self.secret, timeoutSeconds: 20)
            settings.caFile = app.certificate
            let sink = HTTPForwarderSink(name: "forward", settings: settings, logger: quietLogger)
            let outcome = await sink.accept([ingressRecord(eventID: "Ev0TLSNAME")])
            #expect(outcome.refused == [0], "\(outcome)")
            #expect(outcome.error?.lowercased().contains("hostname") == true, "\(String(describing: outcome.error))")
            #expect(app.signed.load(ordering: .relaxed) + app.unsigned.load(ordering: .relaxed) == 0)
            await sink.close()
        }
    }

    @Test("a ca_file that does not hold a certificate refuses every event with the reason")
    func unusableCAFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-not-a-ca-\(UInt64.random(in: 1...UInt64.max)).pem")
        try Data("not a certificate\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var settings = HTTPForwardSettings(eventsURL: "https://127.0.0.1:9/slack/events", signingSecret: Self.secret, timeoutSeconds: 20)
        settings.caFile = file.path
        let sink = HTTPForwarderSink(name: "forward", settings: settings, logger: quietLogger)
        let outcome = await sink.accept([ingressRecord(eventID: "Ev0TLSCA")])
        #expect(outcome.refused == [0], "\(outcome)")
        #expect(outcome.error?.contains("cannot read CA certificates") == true, "\(String(describing: outcome.error))")
        await sink.close()
    }

    @Test("ca_file: read into the settings for a sink with an https:// URL; refused when unreadable, unused or on another sink type")
    func configuration() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-ca-\(UInt64.random(in: 1...UInt64.max)).pem")
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-secretpart"]
        func load(_ sink: String) throws -> DaemonConfiguration {
            try ConfigLoader.parse("apps:\n  - name: a\n    app_token: ${SLACK_APP_TOKEN}\n    routes: [{sinks: [s]}]\nsinks:\n  s: \(sink)\n",
                                   source: "test.yaml", environment: environment)
        }
        func failure(_ sink: String) -> String {
            do {
                _ = try load(sink)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        let loaded = try load("{type: http, url: \"https://app.example/slack/events\", signing_secret: s3cr3t, ca_file: \"\(file.path)\"}")
        guard case .http(let settings) = loaded.sinks["s"] else {
            Issue.record("not an http sink: \(String(describing: loaded.sinks["s"]))")
            return
        }
        #expect(settings.caFile == file.path)
        let missing = failure("{type: http, url: \"https://app.example/e\", signing_secret: s3cr3t, ca_file: /nonexistent/ca.pem}")
        #expect(missing.contains("sinks.s.ca_file") && missing.contains("cannot read"), "\(missing)")
        let unused = failure("{type: http, url: \"http://app.example/e\", signing_secret: s3cr3t, ca_file: \"\(file.path)\"}")
        #expect(unused.contains("sinks.s.ca_file") && unused.contains("https://"), "\(unused)")
        let other = failure("{type: file, path: /dev/null, ca_file: \"\(file.path)\"}")
        #expect(other.contains("sinks.s.ca_file"), "\(other)")
    }
}
