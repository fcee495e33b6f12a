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
    /// A request carrying `marker`, so that the server counts only this test's requests (a
    /// client of another test may reach a port that was handed out again).
    static func request(_ body: String = "{}", marker: String) -> HTTPRequestBytes {
        HTTPRequestBytes(target: "/slack/events", host: "127.0.0.1",
                         headers: [("Content-Type", "application/json"), (RawHTTPServer.markerHeader, marker)],
                         body: Array(body.utf8))
    }

    static func request(to server: RawHTTPServer, unanswered: Bool = false) -> HTTPRequestBytes {
        HTTPRequestBytes(target: "/slack/events", host: "127.0.0.1",
                         headers: [(RawHTTPServer.markerHeader, server.marker), ("X-Answer", unanswered ? "never" : "yes")],
                         body: Array("{}".utf8))
    }

    @Test("requests reuse keep-alive connections, never more than the limit, and every answer comes back")
    func reuseAndLimit() async throws {
        let served = Atomic<Int>(0)
        let marker = "pool-\(UInt64.random(in: 1...UInt64.max))"
        let server = HTTPServer(host: "127.0.0.1", port: 0) { request, sender in
            if request.header(RawHTTPServer.markerHeader) == marker { served.add(1, ordering: .relaxed) }
            sender.send(HTTPServerResponse(status: .ok, contentType: "application/json", body: request.body))
        }
        try await server.start()
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port!, maxConnections: 4)
        let bodies = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let response = try await pool.execute(Self.request("{\"n\":\(index)}", marker: marker), timeout: .seconds(30)).get()
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
                group.addTask { (try? await limited.execute(Self.request(to: raw), timeout: .seconds(30)).get())?.status ?? 0 }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 }, "\(statuses)")
        #expect((1...3).contains(raw.acceptedCount), "\(raw.acceptedCount) connections")
        await limited.shutdown()
        raw.stop()
    }

    @Test("an HTTP/1.0 answer without keep-alive ends its connection: the next request goes out on a new one")
    func http10ClosesConnection() async throws {
        // As Python's wsgiref answers (a server that closes after each answer); the server
        // here keeps the connection open, so only the client's reading of the answer can
        // keep a second request off it.
        let server = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return true
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        for _ in 1...3 {
            let result = await pool.execute(Self.request(to: server), timeout: .seconds(30))
            #expect((try? result.get())?.status == 200, "\(result)")
        }
        #expect(server.acceptedCount == 3, "\(server.acceptedCount) connections for 3 HTTP/1.0 answers")
        #expect(server.requestCount == 3)
        await pool.shutdown()
        server.stop()
    }

    @Test("a keep-alive connection the server closed while idle is replaced, and the request goes through")
    func staleKeepAlive() async throws {
        // Each connection answers one request with keep-alive, then the server closes it.
        let server = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return false
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        for round in 1...3 {
            let result = await pool.execute(Self.request(to: server), timeout: .seconds(10))
            #expect((try? result.get())?.status == 200, "\(result)")
            // The next request goes out once the server has closed this connection.
            #expect(await RawHTTPServer.wait { server.closedCount == round })
        }
        #expect(server.acceptedCount == 3)
        #expect(server.requestCount == 3)
        await pool.shutdown()
        server.stop()
    }

    @Test("a reused connection the server closed before the request went out (its end not yet read) is replaced without writing to it")
    func closedBeforeReuse() async throws {
        // The server answers, keeps the connection open until told, then closes it.
        let closeNow = Flag()
        let server = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            for _ in 0..<3000 where !closeNow.value.load(ordering: .relaxed) { Thread.sleep(forTimeInterval: 0.01) }
            return false
        }
        // One event loop, held busy while the server closes the idle connection: the next
        // request is handed to the pool in the same turn of the loop, before the loop can read
        // the connection's end. Only the kernel knows the server closed it.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1, group: group)
        let first = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect((try? first.get())?.status == 200, "\(first)")
        let handedOver = Flag()
        let held = group.next().submit {
            closeNow.value.store(true, ordering: .relaxed)
            var polls = 0
            while !(server.closedCount == 1 && handedOver.value.load(ordering: .relaxed)) && polls < 3000 {
                Thread.sleep(forTimeInterval: 0.01)
                polls += 1
            }
            // Time for the server's FIN to reach this side's kernel.
            Thread.sleep(forTimeInterval: 0.05)
        }
        let second: Result<HTTPResponse, HTTPConnectionPool.Failure> = await withCheckedContinuation { continuation in
            pool.execute(Self.request(to: server), timeout: .seconds(10)) { continuation.resume(returning: $0) }
            handedOver.value.store(true, ordering: .relaxed)
        }
        try await held.get()
        #expect((try? second.get())?.status == 200, "\(second)")
        // Not a byte went to the closed connection: the server read each request once.
        #expect(server.requestCount == 2)
        #expect(server.acceptedCount == 2)
        await pool.shutdown()
        try await group.shutdownGracefully()
        server.stop()
    }

    @Test("a request the server read on a reused connection, then closed without answering, is not sent again")
    func noResendAfterRequestWasRead() async throws {
        // The first request is answered with keep-alive; the second is read on the same
        // connection and never answered (a server that crashed while handling it, or an
        // answer lost). It may have been acted on: sending it again would deliver it twice.
        let server = try RawHTTPServer { connection, index, descriptor in
            if connection == 1 && index == 2 { return false }
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return true
        }
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        let first = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect((try? first.get())?.status == 200, "\(first)")
        let second = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect(second == .failure(.connectionClosed), "\(second)")
        #expect(server.requestCount == 2)
        #expect(server.acceptedCount == 1)
        // The caller's own retry is a new request, on a new connection.
        let third = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect((try? third.get())?.status == 200, "\(third)")
        #expect(server.requestCount == 3)
        await pool.shutdown()
        server.stop()
    }

    @Test("a request whose answer was cut short, or never came in time, on a reused connection is not sent again")
    func noResendAfterPartialOrLateAnswer() async throws {
        let server = try RawHTTPServer(answering: { request, descriptor in
            if request.connection == 1 && request.index == 2 {
                RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
                return false
            }
            if request.has("X-Answer", "never") {
                RawHTTPServer.awaitClose(descriptor)
                return false
            }
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            return true
        })
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        #expect((try? await pool.execute(Self.request(to: server), timeout: .seconds(10)).get())?.status == 200)
        let cut = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect(cut == .failure(.connectionClosed), "\(cut)")
        #expect(server.requestCount == 2)
        #expect((try? await pool.execute(Self.request(to: server), timeout: .seconds(10)).get())?.status == 200)
        // A late answer: the connection (made above, so the timeout is spent waiting for the
        // answer) is closed when it expires, and the request is not sent on a new one.
        let late = await pool.execute(Self.request(to: server, unanswered: true), timeout: .seconds(2))
        #expect(late == .failure(.timeout), "\(late)")
        #expect(await RawHTTPServer.wait { server.closedCount == 2 })
        #expect(server.requestCount == 4)
        #expect(server.acceptedCount == 2)
        await pool.shutdown()
        server.stop()
    }

    @Test("no answer within the timeout fails with .timeout; the next request gets a fresh connection")
    func timeout() async throws {
        let unanswered = Counter()
        let server = try RawHTTPServer(answering: { request, descriptor in
            if request.has("X-Answer", "never") {
                unanswered.value.add(1, ordering: .relaxed)
                // No answer, for as long as the client waits.
                RawHTTPServer.awaitClose(descriptor)
                return false
            }
            RawHTTPServer.write(descriptor, "HTTP/1.1 204 No Content\r\n\r\n")
            return true
        })
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        // The connection is made first, so that the short timeout below is spent waiting for
        // an answer, not for a connection on a loaded machine.
        let warm = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect((try? warm.get())?.status == 204, "\(warm)")
        let first = await pool.execute(Self.request(to: server, unanswered: true), timeout: .milliseconds(200))
        #expect(first == .failure(.timeout))
        let second = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect((try? second.get())?.status == 204, "\(second)")
        // The request that timed out was not sent again (at most once: on a very slow
        // machine its deadline can pass before it is written at all).
        #expect(unanswered.value.load(ordering: .relaxed) <= 1)
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
        let chunked = try await pool.execute(Self.request(to: server), timeout: .seconds(10)).get()
        #expect(String(decoding: chunked.body, as: UTF8.self) == "abcde")
        // The same connection again: it now answers close-delimited.
        let raw = try RawHTTPServer { _, _, descriptor in
            RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end")
            return false
        }
        let other = HTTPConnectionPool(host: "127.0.0.1", port: raw.port, maxConnections: 1)
        let delimited = try await other.execute(Self.request(to: raw), timeout: .seconds(10)).get()
        #expect(String(decoding: delimited.body, as: UTF8.self) == "until the end")
        let again = try await other.execute(Self.request(to: raw), timeout: .seconds(10)).get()
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
        let result = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect(result == .failure(.responseTooLarge(status: 200, limit: 4096)), "\(result)")
        await pool.shutdown()
        server.stop()
    }

    @Test("a refused connection, a malformed answer and an answer cut short are failures, not crashes")
    func failures() async throws {
        // A port held bound and not listening: refused for certain (a closed server's port
        // could be handed to another test's server meanwhile).
        let closed = try RefusingPort()
        let refused = HTTPConnectionPool(host: "127.0.0.1", port: closed.port, maxConnections: 1)
        let refusal = await refused.execute(HTTPConnectionPoolTests.request(marker: "none"), timeout: .seconds(10))
        if case .failure(.connectFailed) = refusal {} else {
            Issue.record("a refused connection should fail with connectFailed: \(refusal)")
        }
        let server = try RawHTTPServer { connection, _, descriptor in
            if connection == 1 { RawHTTPServer.write(descriptor, "NOT HTTP\r\n\r\n") }
            if connection == 2 { RawHTTPServer.write(descriptor, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc") }
            return false
        }
        // A stray client (another test's, retrying a port that was handed out again) gets in
        // first: it must not shift which answer the pool's requests get.
        let stray = try RawHTTPClient(port: server.port)
        stray.send("GET /link HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\r\n")
        #expect(stray.read(timeout: 10).closed)
        stray.close()
        let pool = HTTPConnectionPool(host: "127.0.0.1", port: server.port, maxConnections: 1)
        let malformed = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        if case .failure(.malformedResponse) = malformed {} else {
            Issue.record("a malformed answer should fail with malformedResponse: \(malformed)")
        }
        let cut = await pool.execute(Self.request(to: server), timeout: .seconds(10))
        #expect(cut == .failure(.connectionClosed), "\(cut)")
        #expect(server.requestCount == 2)
        await refused.shutdown()
        await pool.shutdown()
        #expect(await pool.execute(Self.request(to: server), timeout: .seconds(1)) == .failure(.shutDown))
        server.stop()
    }
}

/// A flag shared with an event loop's task.
final class Flag: Sendable {
    let value = Atomic<Bool>(false)
}

/// A counter shared with the raw server's threads.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
