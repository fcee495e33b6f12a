import Foundation
import Testing
@testable import SockeyeSim

@Suite("Refresh, warning, link_disabled, faults")
struct RefreshTests {
    @Test("debug_reconnects lifetime 360 s at time scale 360: warning, refresh_requested, then a 1000 close")
    func refresh() throws {
        // 360 s / 360 = 1 s lifetime; warning 10 s / 360 ≈ 28 ms before it.
        let h = try Harness { $0.timeScale = 360; $0.refreshCloseDelay = 36 }
        let (ws, hello) = try h.connect(debugReconnects: true)
        #expect((hello["debug_info"] as? [String: Any])?["approximate_connection_time"] as? Int == 360)
        let start = Date()
        let warning = Harness.json(try ws.next(timeout: 3).text)
        #expect(warning["type"] as? String == "disconnect")
        #expect(warning["reason"] as? String == "warning")
        let elapsed = Date().timeIntervalSince(start)
        // Not before its time; the upper bound only rules out a missed warning (a loaded
        // machine may be late, never early).
        #expect(elapsed > 0.8 && elapsed < 2.9)
        let refresh = Harness.json(try ws.next(timeout: 3).text)
        #expect(refresh["reason"] as? String == "refresh_requested")
        #expect((refresh["debug_info"] as? [String: Any])?["host"] is String)
        let close = try ws.next(timeout: 3)
        #expect(close.opcode == 0x8)
        #expect(TestWebSocket.closeCode(close) == 1000)
    }

    @Test("with warningProbability 0 the refresh comes without a warning")
    func refreshWithoutWarning() throws {
        let h = try Harness { $0.timeScale = 360; $0.warningProbability = 0 }
        let (ws, _) = try h.connect(debugReconnects: true)
        let first = Harness.json(try ws.next(timeout: 3).text)
        #expect(first["reason"] as? String == "refresh_requested")
    }

    @Test("no envelopes go to a connection after refresh_requested; they go to the replacement")
    func deliveryAvoidsRefreshing() throws {
        let h = try Harness { $0.refreshCloseDelay = 3600 }
        let (old, _) = try h.connect()
        _ = try TestHTTP.admin(h.port, "/admin/disconnect", #"{"reason":"refresh_requested"}"#)
        #expect(Harness.json(try old.next().text)["reason"] as? String == "refresh_requested")
        let (new, _) = try h.connect()
        h.inject("message", count: 2)
        #expect(Harness.json(try new.next().text)["type"] as? String == "events_api")
        #expect(Harness.json(try new.next().text)["type"] as? String == "events_api")
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try old.next(timeout: 0.2) }
    }

    @Test("link_disabled on demand, followed by a close")
    func linkDisabled() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        _ = try TestHTTP.admin(h.port, "/admin/disconnect", #"{"reason":"link_disabled"}"#)
        let msg = Harness.json(try ws.next().text)
        #expect(msg["type"] as? String == "disconnect")
        #expect(msg["reason"] as? String == "link_disabled")
        #expect(try ws.next(timeout: 3).opcode == 0x8)
    }

    @Test("refresh can end with a TCP drop instead of a close frame")
    func refreshDrop() throws {
        let h = try Harness { $0.timeScale = 360; $0.refreshClose = .tcpDrop }
        let (ws, _) = try h.connect(debugReconnects: true)
        _ = try ws.next(containing: "refresh_requested", timeout: 3)
        #expect(throws: TestWebSocket.Failure.closed) { _ = try ws.next(timeout: 3) }
    }

    @Test("faults: drop and rst end TCP without a close frame; refuse rejects upgrades for a while")
    func faults() throws {
        let h = try Harness()
        for kind in ["drop", "rst"] {
            let (ws, _) = try h.connect()
            let id = try #require(h.server.sync { core, _ in core.connections().last.map { Int($0.raw) } })
            _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"\#(kind)","connection":\#(id)}"#)
            #expect(throws: TestWebSocket.Failure.closed) { _ = try ws.next(timeout: 3) }
        }
        _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"refuse","seconds":0.3}"#)
        #expect(throws: (any Error).self) { _ = try h.connect() }
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try h.connect().1["type"] as? String == "hello")
    }

    @Test("a fault with a count and no connection hits that many of the app's connections, oldest first")
    func faultCountHitsOldestFirst() throws {
        let h = try Harness()
        let (oldest, _) = try h.connect()
        let (middle, _) = try h.connect()
        let (newest, _) = try h.connect()
        _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"drop","count":1}"#)
        #expect(throws: TestWebSocket.Failure.closed) { _ = try oldest.next(timeout: 3) }
        h.inject("message", count: 2)
        // The two left are still live: each gets one of the two payloads (round robin).
        #expect(try middle.next(timeout: 3).text.contains("envelope_id"))
        #expect(try newest.next(timeout: 3).text.contains("envelope_id"))
    }

    @Test("ghost registrations count toward the limit and swallow payloads until they expire")
    func ghosts() throws {
        let h = try Harness { $0.ackDeadline = 0.2; $0.retryDelays = [0] }
        _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"ghosts","count":9,"seconds":1.0}"#)
        let (ws, hello) = try h.connect()
        #expect(hello["num_connections"] as? Int == 10)
        #expect(try h.connect().1["reason"] as? String == "too_many_websockets")
        h.inject("message", count: 10)
        // One of ten reaches the live socket at first; the retries of the others land later.
        var received = 0
        while let f = try? ws.next(timeout: 1.5) {
            received += 1
            ws.sendText(#"{"envelope_id":"\#(Harness.json(f.text)["envelope_id"] as? String ?? "")"}"#)
        }
        let r = h.wait { $0.total.acked + $0.total.failedAfterRetries == 10 }
        #expect(r.total.acked + r.total.failedAfterRetries == 10)
        #expect(r.total.failedAfterRetries > 0)
        #expect(received == r.total.acked)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(try h.connect().1["num_connections"] as? Int == 2)
    }

    @Test("ghost mode: a connection lost without a close frame stays registered")
    func ghostOnUncleanClose() throws {
        let h = try Harness { $0.ghostOnUncleanClose = true; $0.ghostTTL = 3600 }
        let (ws, _) = try h.connect()
        ws.drop()
        Thread.sleep(forTimeInterval: 0.2)
        let (live, hello) = try h.connect()
        defer { withExtendedLifetime(live) {} }
        #expect(hello["num_connections"] as? Int == 2)
        #expect(h.server.sync { core, _ in core.connections().compactMap { core.state($0)?.rawValue } } == ["ghost", "live"])
    }

    @Test("slow hello delays the hello")
    func slowHello() throws {
        let h = try Harness()
        _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"slow_hello","seconds":0.5}"#)
        // Measured from before the connection: the hello comes at least 0.5 s later however
        // loaded the machine (a deadline on the client's side would not hold under load).
        let start = Date()
        let ws = try TestWebSocket(url: h.url())
        #expect(Harness.json(try ws.next(timeout: 10).text)["type"] as? String == "hello")
        let elapsed = Date().timeIntervalSince(start)
        #expect(elapsed >= 0.5, "hello after \(elapsed) s")
    }
}
