import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SockeyeHTTP
import Synchronization
import Testing

/// The server's limits against clients that do not play along, over real sockets on
/// 127.0.0.1 with short configured limits. Waits are generous (up to 30 s); nothing asserts
/// on elapsed time.
@Suite("HTTP server limits", .serialized)
struct ServerLimitsTests {
    /// Refusals the server reported, by reason.
    final class Rejections: Sendable {
        private let counts = Mutex<[RejectionReason: Int]>([:])
        func record(_ reason: RejectionReason) { counts.withLock { $0[reason, default: 0] += 1 } }
        subscript(_ reason: RejectionReason) -> Int { counts.withLock { $0[reason] ?? 0 } }
    }

    /// Requests to `/hold`, never answered (their connections stay busy).
    final class Holds: Sendable {
        private let senders = Mutex<[HTTPResponseSender]>([])
        func add(_ sender: HTTPResponseSender) { senders.withLock { $0.append(sender) } }
        var count: Int { senders.withLock { $0.count } }
    }

    /// A server answering `POST /echo` (bodies up to 100 000 bytes) and `GET` of any other
    /// known path with the path, but `/hold` (not answered); `/unknown…` paths are refused
    /// by the screen.
    static func start(holds: Holds = Holds(), _ adjust: (inout HTTPServer.Limits) -> Void = { _ in }) async throws -> (HTTPServer, Rejections) {
        let rejections = Rejections()
        var limits = HTTPServer.Limits(
            bodyLimit: { _ in 100_000 },
            screen: { head in
                HTTPServerRequest.path(of: head.uri).hasPrefix("/unknown")
                    ? HTTPServer.Refusal(.text(.notFound, "not here\n"), reason: .unknownPath) : nil
            },
            onRejected: { rejections.record($0) })
        adjust(&limits)
        let server = HTTPServer(host: "127.0.0.1", port: 0, limits: limits) { request, sender in
            if request.path == "/hold" {
                holds.add(sender)
            } else if request.path == "/echo" {
                sender.send(HTTPServerResponse(status: .ok, contentType: "text/plain", body: request.body))
            } else {
                sender.send(.text(.ok, String(request.path)))
            }
        }
        try await server.start()
        return (server, rejections)
    }

    /// Sends `bytes` one at a time, a byte per 200 ms, until `done` holds or the server
    /// closes the connection; then waits (up to 30 s) for the close. True when the
    /// connection closed; false when it is still open after every byte or 30 s after `done`.
    ///
    /// The server's event loops and the timer that closes the connection are not bound to
    /// this test's pace: on a loaded machine the close can come many bytes later than the
    /// deadline. Waiting on `done` (the server's own report of the timeout) and then on the
    /// close separately keeps a late event from being taken for a missing one.
    static func trickle(_ client: RawHTTPClient, _ bytes: String, until done: () -> Bool) -> Bool {
        for byte in bytes.utf8 {
            client.send([byte])
            if client.read(timeout: 0.2).closed { return true }
            if done() { return client.read(timeout: 30).closed }
        }
        return false
    }

    @Test("slow-loris head: a head sent a byte at a time is closed at the head deadline, though bytes keep coming")
    func slowHead() async throws {
        let (server, rejections) = try await Self.start { $0.headTimeout = .seconds(1); $0.idleTimeout = .seconds(60) }
        let client = try RawHTTPClient(port: server.port!)
        // 400 bytes, 80 s at a byte per 200 ms: the absolute 1 s deadline comes first unless
        // the bytes move it.
        let head = "GET /slow HTTP/1.1\r\nHost: x\r\nX-Pad: " + String(repeating: "a", count: 400)
        let closed = Self.trickle(client, head) { rejections[.headTimeout] > 0 }
        #expect(closed, "still open: head timeouts \(rejections[.headTimeout]), connections \(server.connectionCount)")
        client.close()
        #expect(rejections[.headTimeout] == 1)
        // A head sent at once is answered.
        let quick = try RawHTTPClient(port: server.port!)
        quick.send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(quick.read { $0.hasSuffix("\r\n\r\n/fine") }.text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        quick.close()
        await server.stop()
    }

    @Test("slow body: a body sent slower than the minimum rate is closed at its deadline")
    func slowBody() async throws {
        let (server, rejections) = try await Self.start {
            $0.bodyTimeout = .seconds(1)
            $0.minBodyBytesPerSecond = 1_000_000
            $0.idleTimeout = .seconds(60)
        }
        let client = try RawHTTPClient(port: server.port!)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
        let closed = Self.trickle(client, String(repeating: "b", count: 400)) { rejections[.bodyTimeout] > 0 }
        #expect(closed, "still open: body timeouts \(rejections[.bodyTimeout]), connections \(server.connectionCount)")
        client.close()
        #expect(rejections[.bodyTimeout] == 1)
        await server.stop()
    }

    @Test("at max_connections with every connection busy, one more is closed at once and counted; a slot freed serves a request again")
    func connectionCap() async throws {
        let holds = Holds()
        let (server, rejections) = try await Self.start(holds: holds) { $0.maxConnections = 2; $0.headTimeout = .seconds(60) }
        // Two connections each waiting for an answer: busy, not idle.
        let first = try RawHTTPClient(port: server.port!)
        let second = try RawHTTPClient(port: server.port!)
        first.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        second.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { holds.count == 2 })
        let third = try RawHTTPClient(port: server.port!)
        third.send("GET /third HTTP/1.1\r\nHost: x\r\n\r\n")
        let refused = third.read(timeout: 30)
        #expect(refused.closed && refused.text.isEmpty, "\(refused)")
        third.close()
        #expect(rejections[.connectionLimit] >= 1)
        // Once one leaves, a new connection is served.
        first.close()
        #expect(await eventually { server.connectionCount == 1 })
        let fourth = try RawHTTPClient(port: server.port!)
        fourth.send("GET /fourth HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(fourth.read(timeout: 30).text.hasSuffix("\r\n\r\n/fourth"))
        fourth.close()
        second.close()
        await server.stop()
    }

    @Test("at max_connections, a new connection closes the longest idle one instead of being refused")
    func idleEviction() async throws {
        let holds = Holds()
        // The idle connection waits across suspension points: a starved cooperative pool can
        // resume this test minutes later, and a head or idle deadline must not close it first.
        let (server, rejections) = try await Self.start(holds: holds) {
            $0.maxConnections = 2
            $0.headTimeout = .seconds(3600)
            $0.idleTimeout = .seconds(3600)
        }
        let busy = try RawHTTPClient(port: server.port!)
        busy.send("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await eventually { holds.count == 1 })
        let idle = try RawHTTPClient(port: server.port!)
        #expect(await eventually { server.connectionCount == 2 })
        let newcomer = try RawHTTPClient(port: server.port!)
        newcomer.send("GET /newcomer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(newcomer.read(timeout: 30).text.hasSuffix("\r\n\r\n/newcomer"))
        #expect(idle.read(timeout: 30).closed)
        #expect(rejections[.idleEvicted] == 1 && rejections[.connectionLimit] == 0)
        newcomer.close()
        idle.close()
        busy.close()
        await server.stop()
    }

    @Test("an unknown path with a large declared body is answered 404 without reading it, and the connection closes")
    func unknownPath() async throws {
        let (server, rejections) = try await Self.start()
        let client = try RawHTTPClient(port: server.port!)
        client.send("POST /unknown HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
        let (text, closed) = client.read(timeout: 30)
        #expect(text.hasPrefix("HTTP/1.1 404 Not Found\r\n"), "\(text)")
        #expect(text.contains("Connection: close\r\n"))
        #expect(closed)
        client.close()
        #expect(rejections[.unknownPath] == 1)
        await server.stop()
    }

    @Test("the last request max_requests_per_connection allows is answered with Connection: close")
    func requestsPerConnection() async throws {
        let (server, _) = try await Self.start { $0.maxRequestsPerConnection = 2 }
        let client = try RawHTTPClient(port: server.port!)
        client.send("GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        let one = client.read { $0.hasSuffix("\r\n\r\n/one") }
        #expect(one.text.hasSuffix("\r\n\r\n/one") && !one.text.contains("Connection: close") && !one.closed, "\(one)")
        client.send("GET /two HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n")
        let two = client.read(timeout: 30)
        #expect(two.text.contains("Connection: close\r\n"), "\(two)")
        #expect(two.text.hasSuffix("\r\n\r\n/two"), "\(two)")
        #expect(two.closed)
        client.close()
        await server.stop()
    }

    @Test("a connection that never sends a byte is closed after the head deadline, counted")
    func silentConnection() async throws {
        let (server, rejections) = try await Self.start { $0.headTimeout = .milliseconds(500); $0.idleTimeout = .seconds(60) }
        let client = try RawHTTPClient(port: server.port!)
        #expect(client.read(timeout: 30).closed)
        client.close()
        #expect(rejections[.headTimeout] == 1)
        await server.stop()
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func eventually(seconds: Double = 30, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

@Suite("ConnectionDeadlines")
struct ConnectionDeadlinesTests {
    static let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static func at(_ milliseconds: Int64) -> NIODeadline { start + .milliseconds(milliseconds) }
    static func make() -> ConnectionDeadlines {
        ConnectionDeadlines(accepted: start, idle: .seconds(30), head: .seconds(10), bodyBase: .seconds(10), minBodyBytesPerSecond: 1000)
    }

    @Test("the head deadline is absolute from the first byte: later bytes do not move it")
    func headIsAbsolute() {
        var deadlines = Self.make()
        deadlines.requestRead(at: Self.at(0), unanswered: 0)
        deadlines.bytesArrived(at: Self.at(1_000))
        for second in 2...10 { deadlines.bytesArrived(at: Self.at(Int64(second) * 1000)) }
        #expect(deadlines.expired(at: Self.at(10_999)) == nil)
        #expect(deadlines.expired(at: Self.at(11_000)) == .head)
    }

    @Test("a fresh connection's first head counts from the accept; silence ends at the shorter of idle and head")
    func fresh() {
        var deadlines = Self.make()
        #expect(deadlines.expired(at: Self.at(9_999)) == nil)
        #expect(deadlines.expired(at: Self.at(10_000)) == .head)
        deadlines.bytesArrived(at: Self.at(9_000))
        #expect(deadlines.expired(at: Self.at(10_000)) == .head)
    }

    @Test("the body deadline is the base plus the size at the minimum rate")
    func body() {
        var deadlines = Self.make()
        deadlines.bytesArrived(at: Self.at(0))
        deadlines.headRead(at: Self.at(100), bodyBytes: 5000)
        deadlines.bytesArrived(at: Self.at(10_000))
        #expect(deadlines.expired(at: Self.at(15_099)) == nil)
        #expect(deadlines.expired(at: Self.at(15_100)) == .body)
        // Sizes past any sense do not overflow: capped at a day.
        deadlines.headRead(at: Self.at(0), bodyBytes: Int.max)
        #expect(deadlines.expired(at: Self.at(86_000_000)) == nil)
        #expect(deadlines.expired(at: Self.at(86_410_000)) == .body)
    }

    @Test("nothing expires while answers are owed; idle time starts with the last answer")
    func answersThenIdle() {
        var deadlines = Self.make()
        deadlines.bytesArrived(at: Self.at(0))
        deadlines.headRead(at: Self.at(0), bodyBytes: 0)
        deadlines.requestRead(at: Self.at(0), unanswered: 1)
        #expect(deadlines.expired(at: Self.at(1_000_000)) == nil)
        deadlines.answered(at: Self.at(1_000_000), unanswered: 0)
        #expect(deadlines.expired(at: Self.at(1_029_999)) == nil)
        #expect(deadlines.expired(at: Self.at(1_030_000)) == .idle)
    }
}

@Suite("RateLimitedLog")
struct RateLimitedLogTests {
    @Test("one line per key per interval, carrying the number suppressed since the previous line")
    func limits() {
        var log = RateLimitedLog(interval: 10)
        #expect(log.occurred("head_timeout", at: 0) == RateLimitedLog.Line(suppressed: 0))
        for second in 1...9 { #expect(log.occurred("head_timeout", at: Double(second)) == nil) }
        #expect(log.occurred("host", at: 5) == RateLimitedLog.Line(suppressed: 0))
        #expect(log.occurred("head_timeout", at: 10) == RateLimitedLog.Line(suppressed: 9))
        #expect(log.occurred("head_timeout", at: 11) == nil)
        #expect(log.occurred("head_timeout", at: 25) == RateLimitedLog.Line(suppressed: 1))
    }

    @Test("keys beyond the bound forget the oldest, so memory stays bounded")
    func boundedKeys() {
        var log = RateLimitedLog(interval: 10, maxKeys: 2)
        #expect(log.occurred("a", at: 0) != nil)
        #expect(log.occurred("b", at: 1) != nil)
        #expect(log.occurred("c", at: 2) != nil)  // forgets "a"
        #expect(log.occurred("a", at: 3) != nil)
        #expect(log.occurred("c", at: 4) == nil)
    }
}
