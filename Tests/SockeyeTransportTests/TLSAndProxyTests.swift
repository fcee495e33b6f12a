import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

@Suite("TLS, proxies and configuration errors", .serialized)
struct TLSAndProxyTests {
    /// Injects `count` events once the client is live and waits until the application saw them all.
    func roundTrip(_ sim: SimServer, _ client: SocketModeClient, count: Int = 20) async -> (DeliveryLog, SimReport) {
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        _ = await waitUntil(10) { sim.liveConnections() >= 1 }
        sim.inject(kind: "app_mention", count: count)
        _ = await waitUntil(10) { log.distinct == count }
        let report = await waitSettled(sim)
        await client.stop()
        _ = await consumer.value
        return (log, report)
    }

    @Test("wss with the simulator's CA passed as the option delivers every event")
    func wssWithCA() async throws {
        let sim = try startSim(tls: true)
        defer { sim.stop() }
        let ca = try #require(sim.certificatePath)
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) { $0.caFile = ca })
        let (log, report) = await roundTrip(sim, client)
        #expect(sim.apiBaseURL.hasPrefix("https://"))
        #expect(log.distinct == 20 && log.duplicates == 0)
        #expect(report.total.acked == 20)
    }

    @Test("a wrong CA fails with a TLS verification error that says so")
    func wrongCA() async throws {
        let sim = try startSim(tls: true)
        defer { sim.stop() }
        let other = try makeCertificate(name: "other.example")
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) { $0.caFile = other.cert })
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(10) { notices.contains("certificate verify failed") })
        #expect(notices.contains("wrong or missing CA"))
        #expect(client.stats.lastError?.contains("certificate verify failed") == true)
        #expect(sim.liveConnections() == 0)
        await client.stop()
    }

    @Test("a certificate for another host name fails with a TLS hostname error that says so")
    func wrongHostName() async throws {
        let certificate = try makeCertificate(name: "wrong.example")
        let port = try freePort()
        let script = """
            import socket, ssl, sys
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(sys.argv[1], sys.argv[2])
            server = socket.create_server(("127.0.0.1", int(sys.argv[3])))
            while True:
                connection, _ = server.accept()
                try:
                    context.wrap_socket(connection, server_side=True).close()
                except Exception:
                    connection.close()
            """
        let server = try ExternalProcess(try venvPython(), ["-c", script, certificate.cert, certificate.key, String(port)])
        defer { server.stop() }
        #expect(waitForListener(port: port))
        var options = SocketModeOptions()
        options.apiBaseURL = "https://127.0.0.1:\(port)/api/"
        options.caFile = certificate.cert
        options.environment = [:]
        let client = try SocketModeClient(appToken: simToken, options: options)
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(10) { notices.contains("hostname mismatch") })
        #expect(notices.contains("not valid for '127.0.0.1'"))
        await client.stop()
    }

    @Test("through an HTTP proxy without authentication, every connection is tunnelled")
    func proxyPlain() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let (proxy, port) = try startProxy()
        defer { proxy.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) { $0.proxyURL = "http://127.0.0.1:\(port)" })
        let (log, report) = await roundTrip(sim, client)
        #expect(log.distinct == 20)
        #expect(report.total.acked == 20)
        #expect(proxy.text.contains("CONNECT 127.0.0.1:\(sim.port)"))
    }

    @Test("through a proxy with Basic authentication from the environment, and a wrong password is a distinct error")
    func proxyWithAuthentication() async throws {
        let sim = try startSim(tls: true)
        defer { sim.stop() }
        let (proxy, port) = try startProxy(basicAuth: "sockeye:s3cret")
        defer { proxy.stop() }
        let ca = try #require(sim.certificatePath)
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) {
            $0.caFile = ca
            $0.environment = ["HTTPS_PROXY": "http://sockeye:s3cret@127.0.0.1:\(port)"]
        })
        let (log, report) = await roundTrip(sim, client)
        #expect(log.distinct == 20)
        #expect(report.total.acked == 20)
        #expect(proxy.text.contains("CONNECT 127.0.0.1:\(sim.port)"))

        let refused = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) {
            $0.caFile = ca
            $0.proxyURL = "http://sockeye:wrong@127.0.0.1:\(port)"
        })
        startRunning(refused)
        let notices = NoticeLog(refused.notices)
        #expect(await waitUntil(10) { notices.contains("proxy") && notices.contains("407") })
        await refused.stop()
    }

    @Test("NO_PROXY bypasses the proxy")
    func noProxyBypasses() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let deadPort = try freePort()  // nothing listens: using the proxy would fail
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) {
            $0.environment = ["HTTP_PROXY": "http://127.0.0.1:\(deadPort)", "http_proxy": "http://127.0.0.1:\(deadPort)",
                              "NO_PROXY": "localhost,127.0.0.1"]
        })
        let (log, _) = await roundTrip(sim, client)
        #expect(log.distinct == 20)
    }

    @Test("an unreachable API URL and a malformed URL give distinct errors")
    func unreachableAndMalformed() async throws {
        let port = try freePort()
        var options = SocketModeOptions()
        options.apiBaseURL = "http://127.0.0.1:\(port)/api/"
        options.environment = [:]
        let client = try SocketModeClient(appToken: simToken, options: options)
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(10) { notices.contains("cannot connect to 127.0.0.1:\(port)") })
        await client.stop()

        options.apiBaseURL = "htp:/slack.com"
        #expect {
            _ = try SocketModeClient(appToken: simToken, options: options)
        } throws: { error in
            guard case SocketModeError.invalidConfiguration(.invalidURL) = error else { return false }
            return true
        }
    }
}
