import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SockeyeHTTP
import Synchronization
import Testing

/// The small HTTP/1.1 server, over real sockets on 127.0.0.1.
@Suite("HTTP server", .serialized)
struct HTTPServerTests {
    static let elsewhere = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

    /// A server answering `POST /echo` with the body, `GET /slow` after 200 ms and `GET /later`
    /// after a second from another thread, never `GET /never`, and anything else with the
    /// path. `taken` counts the requests to `/slow`, `/later` and `/never`.
    static func start(idle: TimeAmount = .seconds(75), taken: Counter = Counter()) async throws -> HTTPServer {
        let limits = HTTPServer.Limits(bodyLimit: { _ in 1000 }, idleTimeout: idle)
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { request, sender in
            switch request.path {
            case "/echo":
                sender.send(HTTPServerResponse(status: .ok, contentType: "text/plain", body: request.body))
            case "/slow", "/later":
                taken.value.add(1, ordering: .relaxed)
                // From another thread than the connection's (the tests block the cooperative pool's).
                let delay: TimeAmount = request.path == "/slow" ? .milliseconds(200) : .seconds(1)
                Self.elsewhere.scheduleTask(in: delay) { sender.send(.text(.ok, String(request.path.dropFirst()))) }
            case "/never":
                taken.value.add(1, ordering: .relaxed)
            default:
                sender.send(.text(.ok, String(request.path)))
            }
        }
        try await server.start()
        return server
    }

    @Test("keep-alive: several requests on one connection, each answered with Content-Length and Date")
    func keepAlive() async throws {
        let server = try await Self.start()
        let client = try RawHTTPClient(port: server.port!)
        for index in 0..<3 {
            client.send("GET /n\(index) HTTP/1.1\r\nHost: x\r\n\r\n")
            let (text, closed) = client.read { $0.hasSuffix("/n\(index)") }
            #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
            #expect(text.contains("Content-Length: 3\r\n"))
            #expect(text.contains("\r\nDate: "))
            #expect(text.hasSuffix("\r\n\r\n/n\(index)"))
            #expect(!closed)
        }
        client.close()
        await server.stop()
    }

    @Test("pipelined requests are answered in order even when an earlier answer comes later")
    func pipelining() async throws {
        let server = try await Self.start()
        let client = try RawHTTPClient(port: server.port!)
        client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
        let (text, _) = client.read { $0.hasSuffix("\r\n\r\nhello") }
        let slow = try #require(text.range(of: "\r\n\r\nslow"))
        let fast = try #require(text.range(of: "\r\n\r\n/fast"))
        let echo = try #require(text.range(of: "\r\n\r\nhello"))
        #expect(slow.lowerBound < fast.lowerBound && fast.lowerBound < echo.lowerBound)
        client.close()
        await server.stop()
    }

    @Test("Expect: 100-continue gets 100 before the body is sent; chunked bodies are read")
    func continueAndChunked() async throws {
        let server = try await Self.start()
        let client = try RawHTTPClient(port: server.port!)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        #expect(client.read { $0.hasSuffix("\r\n\r\n") }.text == "HTTP/1.1 100 Continue\r\n\r\n")
        client.send("abcd")
        #expect(client.read { $0.hasSuffix("\r\n\r\nabcd") }.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        #expect(client.read { $0.hasSuffix("\r\n\r\nabcde") }.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        client.close()
        await server.stop()
    }

    @Test("a body over the limit gets 413 and the connection closes, by Content-Length or as it streams")
    func tooLarge() async throws {
        let server = try await Self.start()
        let declared = try RawHTTPClient(port: server.port!)
        declared.send("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n")
        let first = declared.read(timeout: 30)
        #expect(first.text.statusCodes == [413])
        #expect(first.text.contains("Connection: close\r\n"))
        #expect(first.closed)
        declared.close()
        let streamed = try RawHTTPClient(port: server.port!)
        streamed.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<3 { streamed.send("190\r\n" + String(repeating: "x", count: 400) + "\r\n") }
        let second = streamed.read(timeout: 30)
        #expect(second.text.statusCodes == [413])
        #expect(second.closed)
        streamed.close()
        await server.stop()
    }

    @Test("a request that does not parse gets 400 and the connection closes; answers owed before it go out first")
    func malformed() async throws {
        let server = try await Self.start()
        let client = try RawHTTPClient(port: server.port!)
        client.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\nNOT HTTP AT ALL\r\n\r\n")
        let (text, closed) = client.read(timeout: 30)
        #expect(text.statusCodes == [200, 400])
        #expect(closed)
        client.close()
        await server.stop()
    }

    @Test("Connection: close and HTTP/1.0 end the connection after the answer; HEAD gets no body")
    func closing() async throws {
        let server = try await Self.start()
        for request in ["GET /a HTTP/1.1\r\nConnection: close\r\n\r\n", "GET /a HTTP/1.0\r\n\r\n"] {
            let client = try RawHTTPClient(port: server.port!)
            client.send(request)
            let (text, closed) = client.read(timeout: 30)
            #expect(text.statusCodes == [200])
            #expect(text.contains("Connection: close\r\n"))
            #expect(closed)
            client.close()
        }
        let head = try RawHTTPClient(port: server.port!)
        head.send("HEAD /abc HTTP/1.1\r\nHost: x\r\n\r\n")
        let (text, _) = head.read { $0.hasSuffix("\r\n\r\n") }
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("Content-Length: 4\r\n"))
        head.close()
        await server.stop()
    }

    @Test("an idle connection is closed; stop() answers a request in progress, then closes")
    func idleAndStop() async throws {
        let taken = Counter()
        let server = try await Self.start(idle: .milliseconds(300), taken: taken)
        let idle = try RawHTTPClient(port: server.port!)
        let (_, closed) = idle.read(timeout: 30)
        #expect(closed)
        idle.close()
        let busy = try RawHTTPClient(port: server.port!)
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        // In progress: the server has read it (sent is not enough: stop() would find nothing
        // read, and rightly close the connection at once).
        #expect(await eventually { taken.value.load(ordering: .relaxed) == 1 })
        await server.stop()
        let (text, ended) = busy.read(timeout: 30)
        #expect(text.statusCodes == [200])
        #expect(ended)
        busy.close()
        // Stopped for good: the listener is closed and no connection is left. (Not by trying
        // to connect: the port may already belong to another test's server, which would
        // then see a stray silent connection.)
        let listenerClosed = Flag()
        Task { await server.waitUntilStopped(); listenerClosed.value.store(true, ordering: .relaxed) }
        #expect(await eventually { listenerClosed.value.load(ordering: .relaxed) })
        #expect(server.connectionCount == 0)
    }

    @Test("stop() returns once the answer in progress went out and its connection closed")
    func stopWaitsForAnswers() async throws {
        let taken = Counter()
        let server = try await Self.start(taken: taken)
        let client = try RawHTTPClient(port: server.port!)
        client.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { taken.value.load(ordering: .relaxed) == 1 })
        await server.stop()
        // Answered a second after it was read: stop() waited for it.
        #expect(server.connectionCount == 0)
        let (text, closed) = client.read(timeout: 30)
        #expect(text.statusCodes == [200] && text.hasSuffix("\r\n\r\nlater"), "\(text)")
        #expect(closed)
        client.close()
    }

    @Test("stop() closes a connection whose answer never comes at its deadline, and returns")
    func stopDeadline() async throws {
        let taken = Counter()
        let server = try await Self.start(taken: taken)
        let client = try RawHTTPClient(port: server.port!)
        client.send("GET /never HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { taken.value.load(ordering: .relaxed) == 1 })
        await server.stop(deadline: .milliseconds(300))
        #expect(server.connectionCount == 0)
        let (text, closed) = client.read(timeout: 30)
        #expect(text.isEmpty && closed, "\(text)")
        client.close()
    }
}
