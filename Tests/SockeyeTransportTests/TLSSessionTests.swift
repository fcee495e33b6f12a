import CSockeyeOpenSSL
import Foundation
import Sockeye
import SockeyeCore
import SockeyeTransport
import Testing

@Suite("TLS sessions refuse a server name OpenSSL cannot use")
struct TLSSessionTests {
    /// The session for `host`, or the error text when there is none.
    func session(for host: String) throws -> (made: Bool, error: String) {
        var error = [CChar](repeating: 0, count: 512)
        let config = try #require(sockeye_tls_config_new(nil, &error, error.count))
        defer { sockeye_tls_config_free(config) }
        let tls = sockeye_tls_new(config, host, &error, error.count)
        defer { sockeye_tls_free(tls) }
        return (tls != nil, String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    @Test("an empty or 300-byte server name fails the session with an error naming SNI; a normal one works")
    func serverNameChecked() throws {
        for host in ["", String(repeating: "a.", count: 150)] {
            let result = try session(for: host)
            #expect(!result.made, "a session was made for a \(host.utf8.count)-byte name")
            #expect(result.error.contains("cannot set the TLS server name (SNI)"), "\(result.error)")
        }
        let normal = try session(for: "slack.com")
        #expect(normal.made && normal.error.isEmpty)
        let address = try session(for: "127.0.0.1")
        #expect(address.made && address.error.isEmpty)
    }

    @Test("through a proxy, a host name too long for SNI fails the call with that TLS error, not a handshake without SNI")
    func longHostThroughProxy() async throws {
        // The peer answers CONNECT with 200 and then says nothing: a handshake started
        // without SNI would stall there until the deadline instead.
        let port = try freePort()
        let script = """
            import socket, sys, threading
            server = socket.create_server(("127.0.0.1", int(sys.argv[1])))
            def handle(connection):
                data = b""
                while b"\\r\\n\\r\\n" not in data:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                connection.sendall(b"HTTP/1.1 200 Connection established\\r\\n\\r\\n")
                while connection.recv(4096):
                    pass
            while True:
                connection, _ = server.accept()
                threading.Thread(target=handle, args=(connection,), daemon=True).start()
            """
        let proxy = try ExternalProcess(try venvPython(), ["-c", script, String(port)])
        defer { proxy.stop() }
        #expect(waitForListener(port: port))
        var options = SocketModeOptions()
        options.apiBaseURL = "https://" + String(repeating: "a.", count: 150) + "example/api/"
        options.proxyURL = "http://127.0.0.1:\(port)"
        options.environment = [:]
        options.webAPITimeout = .seconds(30)
        let client = try SocketModeClient(appToken: simToken, options: options)
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(25) { notices.contains("cannot set the TLS server name (SNI)") })
        #expect(!notices.contains("TLS handshake"))
        await client.stop()
    }
}

@Suite("proxy settings that would leak a password are refused")
struct ProxyPasswordTests {
    static let password = "pA55w0rd-zq"

    /// The error `SocketModeClient` throws for `options`, as a log line would show it.
    func failure(_ configure: (inout SocketModeOptions) -> Void) async -> String? {
        var options = SocketModeOptions()
        options.apiBaseURL = "http://127.0.0.1:1/api/"
        options.environment = [:]
        configure(&options)
        do {
            let client = try SocketModeClient(appToken: simToken, options: options)
            await client.stop()
            return nil
        } catch {
            return "\(error) | \(error.description)"
        }
    }

    @Test("an explicit https:// proxy URL is refused, saying to use http://, without the password")
    func httpsProxyURL() async throws {
        let text = try #require(await failure { $0.proxyURL = "https://user:\(Self.password)@127.0.0.1:3128" })
        #expect(text.contains("use an http:// proxy URL"), "\(text)")
        #expect(!text.contains(Self.password), "\(text)")
    }

    @Test("unparsable proxy and API URLs are refused without any part of the password", arguments: [
        "http://user:pA55w0rd-zq/@127.0.0.1:3128", "http://user:pA55w0rd-zq@bad host:3128", "http://user:pA55w0rd-zq@127.0.0.1:99999",
    ])
    func unparsable(_ url: String) async throws {
        let proxy = try #require(await failure { $0.proxyURL = url })
        #expect(proxy.contains("proxy URL"), "\(proxy)")
        let api = try #require(await failure { $0.apiBaseURL = url })
        #expect(api.contains("API base URL"), "\(api)")
        for text in [proxy, api] {
            for fragment in ["pA55", "w0rd", "zq"] { #expect(!text.contains(fragment), "\(text)") }
        }
    }
}
