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

    /// A server answering `POST /echo` with the body, `GET /slow` after 200 ms from another
    /// thread, and anything else with the path.
    static func start(idle: TimeAmount = .seconds(75)) async throws -> HTTPServer {
        let limits = HTTPServer.Limits(bodyLimit: { _ in 1000 }, idleTimeout: idle)
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { request, sender in
            switch request.path {
            case "/echo":
                sender.send(HTTPServerResponse(status: .ok, contentType: "text/plain", body: request.body))
            case "/slow":
                // From another thread than the connection's (the tests block the cooperative pool's).
                Self.elsewhere.scheduleTask(in: .milliseconds(200)) { sender.send(.text(.ok, "slow")) }
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
            let (text, closed) = client.read(timeout: 0.3)
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
        let (text, _) = client.read(timeout: 0.8)
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
        #expect(client.read(timeout: 0.3).text == "HTTP/1.1 100 Continue\r\n\r\n")
        client.send("abcd")
        #expect(client.read(timeout: 0.3).text.hasSuffix("\r\n\r\nabcd"))
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
        #expect(client.read(timeout: 0.3).text.hasSuffix("\r\n\r\nabcde"))
        client.close()
        await server.stop()
    }

    @Test("a body over the limit gets 413 and the connection closes, by Content-Length or as it streams")
    func tooLarge() async throws {
        let server = try await Self.start()
        let declared = try RawHTTPClient(port: server.port!)
        declared.send("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n")
        let first = declared.read()
        #expect(first.text.statusCodes == [413])
        #expect(first.text.contains("Connection: close\r\n"))
        #expect(first.closed)
        declared.close()
        let streamed = try RawHTTPClient(port: server.port!)
        streamed.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
        for _ in 0..<3 { streamed.send("190\r\n" + String(repeating: "x", count: 400) + "\r\n") }
        let second = streamed.read()
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
        let (text, closed) = client.read()
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
            let (text, closed) = client.read()
            #expect(text.statusCodes == [200])
            #expect(text.contains("Connection: close\r\n"))
            #expect(closed)
            client.close()
        }
        let head = try RawHTTPClient(port: server.port!)
        head.send("HEAD /abc HTTP/1.1\r\nHost: x\r\n\r\n")
        let (text, _) = head.read(timeout: 0.3)
        #expect(text.contains("Content-Length: 4\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        head.close()
        await server.stop()
    }

    @Test("an idle connection is closed; stop() answers a request in progress, then closes")
    func idleAndStop() async throws {
        let server = try await Self.start(idle: .milliseconds(300))
        let idle = try RawHTTPClient(port: server.port!)
        let (_, closed) = idle.read(timeout: 3)
        #expect(closed)
        idle.close()
        let busy = try RawHTTPClient(port: server.port!)
        busy.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(50))
        await server.stop()
        let (text, ended) = busy.read(timeout: 2)
        #expect(text.statusCodes == [200])
        #expect(ended)
        busy.close()
        #expect(throws: (any Error).self) { try RawHTTPClient(port: server.port ?? 1) }
    }
}
