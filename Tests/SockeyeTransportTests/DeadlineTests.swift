import Foundation
import Sockeye
import SockeyeCore
import SockeyeTransport
import Testing

/// A peer that accepts TCP, reads one request head and then, depending on `mode`, says
/// nothing (`silent`), answers a proxy's CONNECT with 200 and then says nothing
/// (`connect-ok`), or answers `apps.connections.open` with a `ws://` URL of its own and
/// leaves the WebSocket upgrade unanswered (`websocket`). It prints the method of every
/// request it reads, so a test counts the client's attempts.
private let stallingPeer = """
    import socket, sys, threading
    mode, port = sys.argv[1], int(sys.argv[2])
    server = socket.create_server(("127.0.0.1", port))
    def handle(connection):
        data = b""
        while b"\\r\\n\\r\\n" not in data:
            chunk = connection.recv(4096)
            if not chunk:
                connection.close()
                return
            data += chunk
        method = data.split(b" ", 1)[0].decode("latin-1")
        print("request " + method, flush=True)
        if mode == "connect-ok" and method == "CONNECT":
            connection.sendall(b"HTTP/1.1 200 Connection established\\r\\n\\r\\n")
        elif mode == "websocket" and method == "POST":
            body = ('{"ok":true,"url":"ws://127.0.0.1:%d/link"}' % port).encode()
            head = "HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n" % len(body)
            connection.sendall(head.encode() + body)
            connection.close()
            return
        # Stall: read (and drop) whatever comes, answer nothing, until the client gives up.
        while connection.recv(4096):
            pass
        connection.close()
    while True:
        connection, _ = server.accept()
        threading.Thread(target=handle, args=(connection,), daemon=True).start()
    """

/// Starts the stalling peer in `mode` on a free loopback port.
func startStallingPeer(_ mode: String) throws -> (ExternalProcess, Int) {
    let port = try freePort()
    let peer = try ExternalProcess(try venvPython(), ["-c", stallingPeer, mode, String(port)])
    guard waitForListener(port: port) else {
        peer.stop()
        throw TestSetupError("the stalling peer did not start: \(peer.text)")
    }
    return (peer, port)
}

/// How many requests with `method` the peer has read.
func requests(_ peer: ExternalProcess, _ method: String) -> Int {
    peer.text.components(separatedBy: "request \(method)\n").count - 1
}

/// `auth.test` through `runtime` against the peer on `port`: "answered", or the error.
func authTest(_ runtime: TransportRuntime, port: Int, timeout: Duration = TransportRuntime.defaultWebAPITimeout) async -> String {
    do {
        _ = try await runtime.callWebAPI(method: "auth.test", token: "xoxb-test", apiBaseURL: "http://127.0.0.1:\(port)/api/",
                                         timeout: timeout)
        return "answered"
    } catch {
        return "\(error)"
    }
}

/// Options with a 1 s Web API deadline and quick retries, for a client that never gets far.
private func stalledOptions(api: String, _ configure: (inout SocketModeOptions) -> Void = { _ in }) -> SocketModeOptions {
    var options = SocketModeOptions()
    options.apiBaseURL = api
    options.environment = [:]
    options.webAPITimeout = .seconds(1)
    options.pool.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(300), jitter: .full)
    options.pool.urlRequestBurst = 1000
    options.pool.urlRequestRefill = .milliseconds(10)
    configure(&options)
    return options
}

@Suite("deadlines on Web API calls and the WebSocket upgrade", .serialized)
struct DeadlineTests {
    @Test("a silent API server: apps.connections.open times out naming the HTTP answer, and a new call follows")
    func silentAPIServer() async throws {
        let (peer, port) = try startStallingPeer("silent")
        defer { peer.stop() }
        let client = try SocketModeClient(appToken: simToken, options: stalledOptions(api: "http://127.0.0.1:\(port)/api/"))
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(30) { requests(peer, "POST") >= 2 })
        #expect(await waitUntil(30) { notices.contains("no answer to apps.connections.open within 1 s (HTTP answer)") })
        #expect(client.stats.timeouts >= 1)
        #expect(client.stats.lastError?.contains("timeout: no answer to apps.connections.open") == true)
        await client.stop()
    }

    @Test("a proxy that accepts CONNECT and never answers: the call times out naming the proxy, and a new one follows")
    func proxyStallsOnConnect() async throws {
        let (proxy, port) = try startStallingPeer("silent")
        defer { proxy.stop() }
        let target = try freePort()  // never reached: the proxy does not connect anywhere
        let client = try SocketModeClient(appToken: simToken, options: stalledOptions(api: "https://127.0.0.1:\(target)/api/") {
            $0.proxyURL = "http://127.0.0.1:\(port)"
        })
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(30) { requests(proxy, "CONNECT") >= 2 })
        #expect(await waitUntil(30) { notices.contains("no answer to apps.connections.open within 1 s (proxy CONNECT)") })
        #expect(client.stats.timeouts >= 1)
        await client.stop()
    }

    @Test("a proxy that answers CONNECT with 200 and then never speaks TLS: the call times out naming the TLS handshake")
    func proxyStallsAfterConnect() async throws {
        let (proxy, port) = try startStallingPeer("connect-ok")
        defer { proxy.stop() }
        let target = try freePort()
        let client = try SocketModeClient(appToken: simToken, options: stalledOptions(api: "https://127.0.0.1:\(target)/api/") {
            $0.proxyURL = "http://127.0.0.1:\(port)"
        })
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(30) { requests(proxy, "CONNECT") >= 2 })
        #expect(await waitUntil(30) { notices.contains("no answer to apps.connections.open within 1 s (TLS handshake)") })
        #expect(client.stats.timeouts >= 1)
        await client.stop()
    }

    /// The pool's `connectTimeout` bounds the upgrade (connect to `101`); this pins that a
    /// server that reads the upgrade request and never answers it costs a new URL, and that
    /// the transport names the step that stalled.
    @Test("a WebSocket server that never answers the upgrade: the connection is dropped and a new URL asked for")
    func silentUpgrade() async throws {
        let (peer, port) = try startStallingPeer("websocket")
        defer { peer.stop() }
        let client = try SocketModeClient(appToken: simToken, options: stalledOptions(api: "http://127.0.0.1:\(port)/api/") {
            $0.pool.connectTimeout = .seconds(1)
        })
        startRunning(client)
        let notices = NoticeLog(client.notices)
        #expect(await waitUntil(30) { requests(peer, "GET") >= 2 && requests(peer, "POST") >= 2 })
        #expect(await waitUntil(30) { notices.contains("connectTimeout") })
        #expect(await waitUntil(30) { notices.contains("no WebSocket connection within 1 s (WebSocket upgrade answer)") })
        #expect(client.stats.timeouts >= 1)
        await client.stop()
    }

    @Test("auth.test through callWebAPI against a silent server fails with a timeout that names the call and the step")
    func callWebAPITimesOut() async throws {
        let (peer, port) = try startStallingPeer("silent")
        defer { peer.stop() }
        let runtime = try TransportRuntime()
        defer { runtime.shutdown() }
        let outcome = await within(30) { await authTest(runtime, port: port, timeout: .seconds(1)) }
        #expect(outcome == "timeout: no answer to auth.test within 1 s (HTTP answer)")
        // One call, one attempt: callWebAPI does not retry (its caller decides).
        #expect(await waitUntil(30) { requests(peer, "POST") >= 1 })
        #expect(requests(peer, "POST") == 1)
    }

    @Test("a Web API call in flight when its runtime shuts down fails at once, and one made after fails too: no caller waits for ever")
    func callWebAPIAtShutdown() async throws {
        let (peer, port) = try startStallingPeer("silent")
        defer { peer.stop() }
        let runtime = try TransportRuntime()
        // A deadline far beyond the test's: only the shutdown can answer this call.
        let call = Task { await authTest(runtime, port: port, timeout: .seconds(300)) }
        #expect(await waitUntil(30) { requests(peer, "POST") >= 1 })
        runtime.shutdown()
        let inFlight = await within(30) { await call.value }
        #expect(inFlight == "runtime: the runtime shut down")
        let after = await within(30) { await authTest(runtime, port: port) }
        #expect(after == "runtime: the runtime shut down")
    }

    @Test("a Web API deadline outside 0.1…300 s is refused before any connection")
    func deadlineRange() async throws {
        let runtime = try TransportRuntime()
        defer { runtime.shutdown() }
        for timeout in [Duration.zero, .milliseconds(99), .seconds(301), .seconds(-1)] {
            await #expect(throws: TransportError.self) {
                _ = try await runtime.callWebAPI(method: "auth.test", token: "xoxb-test", apiBaseURL: "http://127.0.0.1:1/api/",
                                                 timeout: timeout)
            }
            #expect(throws: SocketModeError.self) {
                _ = try SocketModeClient(appToken: simToken, options: stalledOptions(api: "http://127.0.0.1:1/api/") {
                    $0.webAPITimeout = timeout
                })
            }
        }
    }
}
