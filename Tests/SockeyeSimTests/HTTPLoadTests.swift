import Foundation
import SockeyeSlackSignature
import Testing
@testable import SockeyeSim

/// A sim in HTTP delivery mode posting to `url`.
func httpSim(_ url: String, ca: String? = nil, _ configure: (inout SimConfig) -> Void = { _ in }) throws -> SimServer {
    var o = SimServer.Options()
    configure(&o.config)
    o.requestURL = url
    o.requestURLCA = ca
    o.signingSecret = HTTPModeTests.secret
    return try SimServer(o)
}

/// True when the request carries a valid, fresh v0 signature for the tests' secret.
func signatureVerifies(_ r: TestRequestURL.Request) -> Bool {
    guard let ts = r.headers["x-slack-request-timestamp"], let sig = r.headers["x-slack-signature"] else { return false }
    return SlackRequestSignature.sign(secret: Array(HTTPModeTests.secret.utf8), timestamp: ts, body: Array(r.body.utf8)) == sig
        && abs((Int(ts) ?? 0) - Int(Date().timeIntervalSince1970)) < 300
}

/// Waits (bounded) for the load run to settle and returns the report.
func finishedReport(_ sim: SimServer, timeout: Double = 20) -> SimReport {
    let deadline = Date().addingTimeInterval(timeout)
    while !sim.loadDone(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
    return sim.report()
}

/// `event_id` of a JSON event body (nil for form-encoded requests).
func eventID(_ r: TestRequestURL.Request) -> String? { Harness.json(r.body)["event_id"] as? String }

@Suite("HTTP delivery mode: load generator, keep-alive, https://")
struct HTTPLoadTests {
    @Test("window mode: at most `window` requests in progress, over keep-alive connections; signatures and counts check out")
    func windowMode() throws {
        let app = TestRequestURL(keepAlive: true) { _, _ in (200, [:], "", 0.01) }
        defer { app.stop() }
        let sim = try httpSim("http://127.0.0.1:\(app.port)/slack/events") { $0.httpConnections = 4 }
        defer { sim.stop() }
        #expect(sim.startLoad(LoadSpec(window: 3, total: 120, kinds: ["app_mention", "slash_command", "block_actions"])))
        let r = finishedReport(sim)
        let reqs = app.received
        #expect(reqs.count == 120)
        #expect(reqs.allSatisfy(signatureVerifies))
        #expect(app.maxConcurrent <= 3 && app.maxConcurrent >= 2)
        #expect(app.accepted <= 4)
        let events = reqs.compactMap(eventID)
        #expect(events.count == 40 && Set(events).count == 40)
        #expect(reqs.filter { $0.body.contains("command=%2Fdeploy") }.count == 40)
        #expect(reqs.filter { $0.body.hasPrefix("payload=") }.count == 40)

        #expect(r.total.delivered == 120 && r.total.acked == 120)
        #expect(r.total.redelivered == 0 && r.total.failedAfterRetries == 0 && r.total.userVisibleFailures == 0)
        #expect(r.latencyMs.count == 120)
        #expect(r.latencyMs.p50 >= 10 && r.latencyMs.p99 >= r.latencyMs.p50 && r.latencyMs.p999 >= r.latencyMs.p99)
        #expect(r.envelopesPerSecond > 0 && r.inFlight == 0)
        #expect(r.saturated == "client" || r.saturated == "sim")
        let h = try #require(r.http)
        #expect(h.attempts == 120 && h.acked == 120)
        #expect(h.connectionsOpened == app.accepted)
        #expect(r.table().contains("TOTAL"))
    }

    @Test("rate mode is open loop: it keeps the rate, and latency counts from the intended send time behind a slow app")
    func rateMode() throws {
        let fast = TestRequestURL(keepAlive: true) { _, _ in (200, [:], "", 0) }
        defer { fast.stop() }
        let sim = try httpSim("http://127.0.0.1:\(fast.port)/") { $0.httpConnections = 2 }
        defer { sim.stop() }
        let start = Date()
        #expect(sim.startLoad(LoadSpec(rate: 200, total: 100, kinds: ["message"])))
        let quick = finishedReport(sim)
        #expect(Date().timeIntervalSince(start) >= 0.45)
        #expect(fast.received.count == 100 && quick.total.acked == 100)
        #expect(quick.maxSendLagMs != nil)

        // 2 connections × 0.1 s per reply = 20/s against a schedule of 100/s: payloads
        // queue, and their latency includes the queueing (no coordinated omission).
        let slow = TestRequestURL(keepAlive: true) { _, _ in (200, [:], "", 0.1) }
        defer { slow.stop() }
        let lagging = try httpSim("http://127.0.0.1:\(slow.port)/") { $0.httpConnections = 2 }
        defer { lagging.stop() }
        #expect(lagging.startLoad(LoadSpec(rate: 100, total: 30, kinds: ["reaction_added"])))
        let r = finishedReport(lagging)
        #expect(r.total.acked == 30)
        #expect(slow.maxConcurrent <= 2)
        #expect(r.latencyMs.p99 >= 900)
        #expect(r.latencyMs.p50 >= 300)
        #expect((r.maxSendLagMs ?? 0) >= 500)
        #expect(r.saturated == "client")
        #expect(r.elapsedSeconds >= 1.4)
    }

    @Test("failed attempts are redelivered with X-Slack-Retry-Num/Reason; events that never succeed fail after retries")
    func redeliveryAndFailure() throws {
        // The first attempt of every payload gets a 500; its retry is acked.
        let flaky = TestRequestURL(keepAlive: true) { _, req in (req.headers["x-slack-retry-num"] == nil ? 500 : 200, [:], "", 0) }
        defer { flaky.stop() }
        let sim = try httpSim("http://127.0.0.1:\(flaky.port)/") { $0.retryDelays = [0, 0.05, 0.05]; $0.httpConnections = 2 }
        defer { sim.stop() }
        #expect(sim.startLoad(LoadSpec(window: 5, total: 20, kinds: ["app_mention"])))
        let r = finishedReport(sim)
        #expect(r.total.delivered == 40 && r.total.acked == 20 && r.total.redelivered == 20)
        #expect(r.total.failedAfterRetries == 0)
        let reqs = flaky.received
        let retries = reqs.filter { $0.headers["x-slack-retry-num"] != nil }
        #expect(retries.count == 20)
        #expect(retries.allSatisfy { $0.headers["x-slack-retry-num"] == "1" && $0.headers["x-slack-retry-reason"] == "http_error" })
        #expect(Dictionary(grouping: reqs.compactMap(eventID), by: { $0 }).values.allSatisfy { $0.count == 2 })
        #expect(reqs.allSatisfy(signatureVerifies))

        let broken = TestRequestURL(keepAlive: true) { _, _ in (500, [:], "", 0) }
        defer { broken.stop() }
        let sim2 = try httpSim("http://127.0.0.1:\(broken.port)/") { $0.retryDelays = [0, 0.05, 0.05] }
        defer { sim2.stop() }
        #expect(sim2.startLoad(LoadSpec(window: 4, total: 10, kinds: ["reaction_added", "slash_command"])))
        let f = finishedReport(sim2)
        #expect(f.total.failedAfterRetries == 5)
        #expect(f.total.userVisibleFailures == 5)
        #expect(f.total.delivered == 25 && f.total.redelivered == 15 && f.total.acked == 0)
        #expect(f.http?.httpErrors == 25)
        let nums = broken.received.compactMap { $0.headers["x-slack-retry-num"] }
        #expect(nums.sorted() == Array(repeating: "1", count: 5) + Array(repeating: "2", count: 5) + Array(repeating: "3", count: 5))
    }

    @Test("a keep-alive connection the app closed while idle is replaced without a failed attempt")
    func staleConnection() throws {
        let app = TestRequestURL(keepAlive: true, idleTimeout: 0.05) { _, _ in (200, [:], "", 0) }
        defer { app.stop() }
        let sim = try httpSim("http://127.0.0.1:\(app.port)/") { $0.httpConnections = 1 }
        defer { sim.stop() }
        for _ in 0..<3 {
            #expect(sim.inject(kind: "message"))
            _ = app.wait(for: app.received.count + 1)
            Thread.sleep(forTimeInterval: 0.2)
        }
        let h = try #require(sim.report().http)
        #expect(h.acked == 3 && h.attempts == 3)
        #expect(h.connectionFailures == 0 && h.retries == 0)
        #expect(app.accepted == 3 && h.connectionsOpened == 3)
    }

    @Test("https:// Request URL trusted through --request-url-ca: signed requests over TLS keep-alive connections")
    func https() throws {
        let cert = try makeTestCertificate()
        let app = TestRequestURL(keepAlive: true, tls: [cert]) { _, _ in (200, [:], "", 0) }
        defer { app.stop() }
        let sim = try httpSim("https://127.0.0.1:\(app.port)/slack/events", ca: cert.cert) { $0.httpConnections = 3 }
        defer { sim.stop() }
        #expect(sim.startLoad(LoadSpec(window: 6, total: 60, kinds: ["app_mention", "view_submission", "slash_command"])))
        let r = finishedReport(sim)
        #expect(r.total.acked == 60)
        let reqs = app.received
        #expect(reqs.count == 60 && reqs.allSatisfy(signatureVerifies))
        #expect(reqs.contains { $0.body.count > 60_000 })
        #expect(app.accepted <= 3 && app.handshakeFailures == 0)
        #expect(r.http?.tlsFailures == 0 && r.http?.connectionsOpened == app.accepted)

        // A DNS name is checked against the certificate's DNS names.
        let byName = try httpSim("https://localhost:\(app.port)/slack/events", ca: cert.cert)
        defer { byName.stop() }
        #expect(byName.inject(kind: "app_mention"))
        #expect(app.wait(for: 61).count == 61)
        #expect(signatureVerifies(app.received[60]))
    }

    @Test("an untrusted certificate fails the attempt as connection_failed: counted, reported, retried")
    func untrustedCertificate() throws {
        let trusted = try makeTestCertificate(), other = try makeTestCertificate()
        // Connection 0 presents a certificate the sim does not trust; later ones the trusted one.
        let app = TestRequestURL(keepAlive: true, tls: [other, trusted]) { _, _ in (200, [:], "", 0) }
        defer { app.stop() }
        let sim = try httpSim("https://127.0.0.1:\(app.port)/", ca: trusted.cert) { $0.retryDelays = [0, 0.05, 0.05]; $0.httpConnections = 1 }
        defer { sim.stop() }
        #expect(sim.inject(kind: "app_mention"))
        let reqs = app.wait(for: 1)
        #expect(reqs.count == 1)
        #expect(reqs.first?.headers["x-slack-retry-num"] == "1")
        #expect(reqs.first?.headers["x-slack-retry-reason"] == "connection_failed")
        #expect(app.handshakeFailures == 1)
        let until = Date().addingTimeInterval(5)
        while sim.report().http?.acked != 1, Date() < until { Thread.sleep(forTimeInterval: 0.02) }
        let r = sim.report()
        let h = try #require(r.http)
        #expect(h.attempts == 2 && h.acked == 1 && h.retries == 1)
        #expect(h.connectionFailures == 1 && h.tlsFailures == 1)
        #expect(h.lastError?.contains("certificate verify failed") == true)
        #expect(r.table().contains("certificate verify failed"))

        // Without --request-url-ca the system trust store does not know the certificate:
        // every attempt fails and the event fails after its retries.
        let strict = try httpSim("https://127.0.0.1:\(app.port)/") { $0.retryDelays = [0, 0.05, 0.05] }
        defer { strict.stop() }
        #expect(strict.inject(kind: "app_mention"))
        let deadline = Date().addingTimeInterval(10)
        while strict.report().http?.failed != 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let s = try #require(strict.report().http)
        #expect(s.attempts == 4 && s.tlsFailures == 4 && s.failedAfterRetries == 1 && s.acked == 0)
        #expect(app.received.count == 1)
    }

    @Test("a Request URL that is not http(s)://, or an unusable CA file, is refused at start")
    func badTargets() throws {
        #expect(throws: SimError.self) { _ = try httpSim("ftp://127.0.0.1:1/") }
        #expect(throws: SimError.self) { _ = try httpSim("https://127.0.0.1:1/", ca: "/nonexistent/ca.pem") }
        #expect(throws: SimError.self) { _ = try httpSim("http://127.0.0.1:1/", ca: "/nonexistent/ca.pem") }
        let sim = try httpSim("http://127.0.0.1:1/")
        defer { sim.stop() }
        #expect(!sim.startLoad(LoadSpec(rate: 0, total: 5)))
    }

    @Test("reply parser: Content-Length, chunked, HTTP/1.0 to EOF, interim 1xx; keep-alive rules")
    func replyParser() throws {
        func parse(_ s: String, eof: Bool = false) throws -> (RequestURLReply, Int)? { try HTTPReplyParser.parse(Array(s.utf8), eof: eof) }
        let cl = try #require(try parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"))
        #expect(cl.0.status == 200 && cl.0.body == Array("ok".utf8) && cl.0.keepAlive && cl.1 == 40)
        #expect(try parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nok") == nil)
        let chunked = try #require(try parse("HTTP/1.1 500 X\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2;x=y\r\nab\r\n1\r\nc\r\n0\r\nT: v\r\n\r\n"))
        #expect(chunked.0.status == 500 && chunked.0.body == Array("abc".utf8) && !chunked.0.keepAlive)
        #expect(try parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n") == nil)
        #expect(try parse("HTTP/1.0 200 OK\r\n\r\nbody") == nil)
        let old = try #require(try parse("HTTP/1.0 200 OK\r\n\r\nbody", eof: true))
        #expect(old.0.body == Array("body".utf8) && !old.0.keepAlive)
        #expect(try #require(try parse("HTTP/1.0 204 No\r\nConnection: keep-alive\r\n\r\n")).0.keepAlive)
        let interim = try #require(try parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"))
        #expect(interim.0.status == 201)
        #expect(throws: HTTPReplyParser.Failure.self) { _ = try parse("garbage\r\n\r\n") }
        #expect(throws: HTTPReplyParser.Failure.self) { _ = try parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort", eof: true) }
    }
}
