import Foundation
import NIOCore
import NIOPosix
import SockeyeCore
import SockeyeHTTP
import Synchronization
import Testing

/// The keep-alive client pool, against SockeyeHTTP's server and against a raw server that
/// answers the way broken or impatient servers do.
@Suite("HTTP connection pool", .serialized)
struct HTTPConnectionPoolTests {
    static func request(_ body: String = "{}") -> HTTPRequestBytes {
        HTTPRequestBytes(target: "/slack/events", host: "127.0.0.1", headers: [("Content-Type", "application/json")],
                         body: Array(body.utf8))
    }

    @Test("requests reuse keep-alive connections, never more than the limit, and every answer comes back")
    func reuseAndLimit() async throws {
        let served = Atomic<Int>(0)
        let server = HTTPServer(host: "127.0.0.1", port: 0) { request, sender in
            served.add(1, ordering: .relaxed)
            sender.send(HTTPServerResponse(status: .ok, contentType: "application/json", body: request.body))
        }
        try await server.start()
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port!, maxConnections: 4)
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let response = try await pool.execute(Self.request("{\"n\":\(index)}"), timeout: .seconds(5)).get()
                    #expect(response.status == 200)
                    return String(decoding: response.body, as: UTF8.self)
                }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(bodies.count == 200)
        #expect(served.load(ordering: .relaxed) == 200)
        await pool.shutdown()
        await server.stop()

        // Counted on the server side: connections opened for 100 concurrent requests.
        let raw = try RawHTTPServer { _, _, descriptor in
            Thread.sleep(forTimeInterval: 0.002)
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            return true
        }
        let limited = HTTPConnectionPool(host: "127.0.0.1", port: raw.port, maxConnections: 3)
        let statuses = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<100 {
                group.addTask { (try? await limited.execute(Self.request(), timeout: .seconds(10)).get())?.status ?? 0 }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        #expect((1...3).contains(raw.acceptedCount), "\(raw.acceptedCount) connections")
        await limited.shutdown()
        raw.stop()
    }

    @Test("a keep-alive connection the server closed while idle is replaced, and the request goes through")
    func staleKeepAlive() async throws {
        // Each connection answers one request with keep-alive, then the server closes it.
        let server = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return false
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        for _ in 0..<3 {
            let result = await pool.execute(Self.request(), timeout: .seconds(3))
            #expect((try? result.get())?.status == 200, "\(result)")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(server.acceptedCount == 3)
        await pool.shutdown()
        server.stop()
    }

    @Test("no answer within the timeout fails with .timeout; the next request gets a fresh connection")
    func timeout() async throws {
        let server = try RawHTTPServer { connection, _, descriptor in
            if connection == 1 {
                Thread.sleep(forTimeInterval: 0.6)
                return false
            }
            RawHTTPServer.write(descriptor, "HTTP/1.1 204 No Content\r\n\r\n")
            return true
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        let first = await pool.execute(Self.request(), timeout: .milliseconds(200))
        #expect(first == .failure(.timeout))
        let second = await pool.execute(Self.request(), timeout: .seconds(3))
        #expect((try? second.get())?.status == 204, "\(second)")
        await pool.shutdown()
        server.stop()
    }

    @Test("chunked and close-delimited answers are read; a close-delimited one's connection is not reused")
    func framing() async throws {
        let server = try RawHTTPServer { connection, _, descriptor in
            if connection == 1 {
                RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                return true
            }
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            return false
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        let chunked = try await pool.execute(Self.request(), timeout: .seconds(3)).get()
        #expect(String(decoding: chunked.body, as: UTF8.self) == "abcde")
        // The same connection again: it now answers close-delimited.
        let raw = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            return false
        }
        let other = HTTPConnectionPool(host: "127.0.0.1", port: raw.port, maxConnections: 1)
        let delimited = try await other.execute(Self.request(), timeout: .seconds(3)).get()
        #expect(String(decoding: delimited.body, as: UTF8.self) == "until the end")
        let again = try await other.execute(Self.request(), timeout: .seconds(3)).get()
        #expect(again.status == 200)
        #expect(raw.acceptedCount == 2)
        await pool.shutdown()
        await other.shutdown()
        server.stop()
        raw.stop()
    }

    @Test("an answer over the body limit fails with its status, without reading the body")
    func tooLarge() async throws {
        let server = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 5000000\r\n\r\n" + String(repeating: "x", count: 1000))
            return false
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1, maxResponseBytes: 4096)
        let result = await pool.execute(Self.request(), timeout: .seconds(3))
        #expect(result == .failure(.responseTooLarge(status: 200, limit: 4096)), "\(result)")
        await pool.shutdown()
        server.stop()
    }

    @Test("a refused connection, a malformed answer and an answer cut short are failures, not crashes")
    func failures() async throws {
        let closedPort: Int = try {
            let server = try RawHTTPServer { _, _, _ in false }
            server.stop()
            return server.port
        }()
        let refused = HTTPConnectionPool(host: "127.0.0.1", port: closedPort, maxConnections: 1)
        if case .failure(.connectFailed) = await refused.execute(Self.request(), timeout: .seconds(3)) {} else {
            Issue.record("a refused connection should fail with connectFailed")
        }
        let server = try RawHTTPServer { connection, _, descriptor in
            if connection == 1 { RawHTTPServer.write(descriptor, "NOT HTTP\r\n\r\n") }
            if connection == 2 { RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") }
            return false
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        if case .failure(.malformedResponse) = await pool.execute(Self.request(), timeout: .seconds(3)) {} else {
            Issue.record("a malformed answer should fail with malformedResponse")
        }
        let cut = await pool.execute(Self.request(), timeout: .seconds(3))
        #expect(cut == .failure(.connectionClosed), "\(cut)")
        await refused.shutdown()
        await pool.shutdown()
        #expect(await pool.execute(Self.request(), timeout: .seconds(1)) == .failure(.shutDown))
        server.stop()
    }
}
