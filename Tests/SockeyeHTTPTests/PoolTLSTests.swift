import Foundation
import NIOCore
import SockeyeHTTP
import Testing

/// The connection pool over TLS, against a real HTTPS server on 127.0.0.1 with a self-signed
/// certificate: trusted through a CA file it works like the plain pool; untrusted, or for a
/// name the certificate does not cover, every request fails with a TLS failure (no request
/// reaches the server).
@Suite("HTTP connection pool over TLS", .serialized)
struct PoolTLSTests {
    static func request(_ path: String, to server: TLSTestServer) -> HTTPRequestBytes {
        HTTPRequestBytes(target: path, host: "127.0.0.1", headers: [(TLSTestServer.markerHeader, server.marker)], body: Array("{}".utf8))
    }

    @Test("trusted through a CA file: answers in order on one kept-alive connection; an answer over the limit fails as too large")
    func trusted() async throws {
        let certificate = try TestCertificate(subjectAltName: "IP:127.0.0.1")
        defer { certificate.remove() }
        let server = try await TLSTestServer(certificate: certificate)
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1, tls: try PoolTLS(caFile: certificate.certificate))
        for index in 0..<5 {
            let response = try await pool.execute(Self.request("/n\(index)", to: server), timeout: .seconds(30)).get()
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "secure /n\(index)")
        }
        #expect(server.counts.requests.load(ordering: .relaxed) == 5)
        #expect(server.counts.connections.load(ordering: .relaxed) == 1, "keep-alive over TLS")
        let big = await pool.execute(Self.request("/big", to: server), timeout: .seconds(30))
        #expect(big == .failure(.responseTooLarge(status: 200, limit: 1 << 20)), "\(big)")
        await pool.shutdown()
        await server.stop()
    }

    @Test("a certificate the trust store does not hold fails the request with a TLS failure; nothing reaches the server")
    func untrusted() async throws {
        let certificate = try TestCertificate(subjectAltName: "IP:127.0.0.1")
        defer { certificate.remove() }
        let server = try await TLSTestServer(certificate: certificate)
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 2, tls: try PoolTLS())
        for _ in 0..<2 {
            let result = await pool.execute(Self.request("/x", to: server), timeout: .seconds(30))
            guard case .failure(.tls(let why)) = result else {
                Issue.record("expected a TLS failure, got \(result)")
                continue
            }
            #expect(why.contains("CERTIFICATE_VERIFY_FAILED"), "\(why)")
        }
        #expect(server.counts.requests.load(ordering: .relaxed) == 0)
        await pool.shutdown()
        await server.stop()
    }

    @Test("a trusted certificate for another name fails the request with a TLS failure")
    func wrongName() async throws {
        let certificate = try TestCertificate(subjectAltName: "DNS:other.example")
        defer { certificate.remove() }
        let server = try await TLSTestServer(certificate: certificate)
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1, tls: try PoolTLS(caFile: certificate.certificate))
        let result = await pool.execute(Self.request("/x", to: server), timeout: .seconds(30))
        guard case .failure(.tls(let why)) = result else {
            Issue.record("expected a TLS failure, got \(result)")
            return
        }
        #expect(why.lowercased().contains("hostname"), "\(why)")
        #expect(server.counts.requests.load(ordering: .relaxed) == 0)
        await pool.shutdown()
        await server.stop()
    }

    @Test("a CA file that is missing or holds no certificate is refused when the settings are made")
    func badCAFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-ca-\(UInt64.random(in: 1...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty.pem").path
        _ = FileManager.default.createFile(atPath: empty, contents: Data("not a certificate\n".utf8))
        #expect(throws: PoolTLS.SetupError.self) { try PoolTLS(caFile: empty) }
        #expect(throws: PoolTLS.SetupError.self) { try PoolTLS(caFile: directory.appendingPathComponent("missing.pem").path) }
    }
}
