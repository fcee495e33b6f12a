import Foundation
import Testing
@testable import SockeyeSim

/// Reads envelopes and acks them until `count` were acked or `timeout` passes.
func ackAll(_ ws: TestWebSocket, count: Int, timeout: Double = 20) -> Int {
    var acked = 0
    let deadline = Date().addingTimeInterval(timeout)
    while acked < count, Date() < deadline {
        guard let f = try? ws.next(timeout: 1) else { continue }
        if let id = Harness.json(f.text)["envelope_id"] as? String {
            ws.sendText(#"{"envelope_id":"\#(id)"}"#)
            acked += 1
        }
    }
    return acked
}

@Suite("Load generator and report")
struct LoadTests {
    @Test("as-fast-as-acked mode keeps at most `window` in flight and reports every ack with latency")
    func windowMode() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        h.server.startLoad(LoadSpec(window: 8, total: 400, sizes: [512, 2048]))
        var maxInFlight = 0
        var acked = 0
        let deadline = Date().addingTimeInterval(20)
        var unacked: [String] = []
        while acked < 400, Date() < deadline {
            // Read everything available before acking: the window bounds what we can see.
            while let f = try? ws.next(timeout: 0.05), let id = Harness.json(f.text)["envelope_id"] as? String { unacked.append(id) }
            maxInFlight = max(maxInFlight, unacked.count)
            for id in unacked { ws.sendText(#"{"envelope_id":"\#(id)"}"#) }
            acked += unacked.count
            unacked = []
        }
        #expect(acked == 400)
        #expect(maxInFlight <= 8)
        let r = h.wait { $0.total.acked == 400 }
        #expect(r.total.delivered == 400)
        #expect(r.latencyMs.count == 400)
        #expect(r.latencyMs.p50 > 0 && r.latencyMs.p99 >= r.latencyMs.p50 && r.latencyMs.p999 >= r.latencyMs.p99)
        #expect(h.server.loadDone())
        let full = h.server.report()
        #expect(full.simBusyFraction != nil)
        #expect(full.saturated == "sim" || full.saturated == "client")
        #expect(full.json().contains("\"p999\""))
        #expect(full.table().contains("TOTAL"))
    }

    @Test("fixed-rate mode is open loop: it sends on schedule even while nothing is acked, latency from the intended time")
    func rateMode() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let start = Date()
        h.server.startLoad(LoadSpec(rate: 200, total: 100, kinds: ["message", "app_mention"]))
        var ids: [String] = []
        while ids.count < 100, Date().timeIntervalSince(start) < 5 {
            if let f = try? ws.next(timeout: 0.5), let id = Harness.json(f.text)["envelope_id"] as? String { ids.append(id) }
        }
        let elapsed = Date().timeIntervalSince(start)
        #expect(ids.count == 100)
        // Paced (not all at once); the upper bound is the loop's, a loaded machine may be late.
        #expect(elapsed > 0.4 && elapsed < 5)
        // Ack late, all at once: latencies must include the wait since the intended send time.
        Thread.sleep(forTimeInterval: 0.3)
        for id in ids { ws.sendText(#"{"envelope_id":"\#(id)"}"#) }
        let r = h.wait { $0.total.acked == 100 }
        #expect(r.total.acked == 100)
        #expect(r.latencyMs.p50 >= 300)
        #expect(h.server.report().maxSendLagMs != nil)
    }

    @Test("load spreads over several connections; the report has a row per connection")
    func perConnection() throws {
        let h = try Harness()
        let a = try h.connect().0, b = try h.connect().0
        h.server.startLoad(LoadSpec(window: 20, total: 200, sizes: [1024]))
        let group = DispatchGroup()
        let box = ResultBox<Int>()
        box.value = 0
        let lock = NSLock()
        for ws in [a, b] {
            let s = UncheckedBox(value: ws)
            DispatchQueue.global().async(group: group) {
                let n = ackAll(s.value, count: 100, timeout: 10)
                lock.lock(); box.value! += n; lock.unlock()
            }
        }
        group.wait()
        #expect(box.value == 200)
        let r = h.wait { $0.total.acked == 200 }
        #expect(r.connections.count == 2)
        #expect(r.connections.allSatisfy { $0.counters.acked == 100 })
    }
}

@Suite("Events disabling rule and scenarios")
struct RuleAndScenarioTests {
    @Test("fewer than 5 % acked over the window disables events: app_rate_limited without an inner event, then drops")
    func disableRule() throws {
        let h = try Harness { $0.disableMinDeliveries = 20; $0.ackDeadline = 0.1; $0.retryDelays = [] }
        let (ws, _) = try h.connect()
        h.inject("message", count: 25)
        var sawRateLimited: [String: Any]?
        let deadline = Date().addingTimeInterval(5)
        while sawRateLimited == nil, Date() < deadline {
            guard let f = try? ws.next(timeout: 0.5) else { continue }
            let env = Harness.json(f.text)
            if (env["payload"] as? [String: Any])?["type"] as? String == "app_rate_limited" { sawRateLimited = env }
        }
        let env = try #require(sawRateLimited)
        #expect(env["type"] as? String == "events_api")
        let payload = try #require(env["payload"] as? [String: Any])
        #expect(payload["event"] == nil)
        #expect(payload["minute_rate_limited"] is Int)
        h.inject("message", count: 3)
        let r = h.wait { $0.droppedWhileDisabled == 3 }
        #expect(r.eventsDisabled)
        #expect(r.droppedWhileDisabled == 3)
        // Interactive payloads are not affected.
        h.inject("shortcut")
        #expect(Harness.json(try ws.next(containing: "shortcut").text)["type"] as? String == "interactive")
    }

    @Test("the rule counts settled deliveries over a sliding window and needs the minimum volume")
    func ruleUnit() {
        var r = EventsDisableRule(window: 60, minDeliveries: 100, minAckRatio: 0.05, now: 0)
        for _ in 0..<10 { r.delivered(); r.acked() }
        for _ in 0..<80 { r.delivered() }
        let early = r.violated(now: 1)
        #expect(!early)
        for _ in 0..<220 { r.delivered() }
        let low = r.violated(now: 2)
        #expect(low)
        let later = r.violated(now: 200)
        #expect(!later)
    }

    @Test("a YAML scenario sets config and runs timed inject, disconnect and fault steps")
    func scenario() throws {
        let yaml = """
        config:
          ackDeadline: 2
          podName: applink-scenario-1
        steps:
          - at: 0.1
            inject: { kind: app_mention, count: 2 }
          - at: 0.3
            disconnect: { reason: warning }
          - at: 0.5
            fault: { kind: drop }
        """
        let scenario = try Scenario.parse(yaml)
        #expect(scenario.config.ackDeadline == 2)
        #expect(scenario.steps.count == 3)
        #expect(throws: (any Error).self) { _ = try Scenario.parse("config: { noSuchKey: 1 }") }
        var o = SimServer.Options()
        o.config = scenario.config
        let server = try SimServer(o)
        defer { server.stop() }
        let r = try TestHTTP.request(port: server.port, path: "/api/apps.connections.open", headers: ["Authorization": "Bearer \(Harness.appToken)"])
        let ws = try TestWebSocket(url: try #require(r.json["url"] as? String))
        let hello = Harness.json(try ws.next().text)
        #expect((hello["debug_info"] as? [String: Any])?["host"] as? String == "applink-scenario-1")
        let runner = UncheckedBox(value: server)
        let done = DispatchSemaphore(value: 0)
        Thread { runner.value.run(scenario); done.signal() }.start()
        #expect(Harness.json(try ws.next().text)["type"] as? String == "events_api")
        #expect(Harness.json(try ws.next().text)["type"] as? String == "events_api")
        #expect(Harness.json(try ws.next().text)["reason"] as? String == "warning")
        #expect(throws: TestWebSocket.Failure.closed) { _ = try ws.next(timeout: 3) }
        done.wait()
    }

    @Test("stall stops reading a client (its pings go unanswered); half-open also stops writing; others are served")
    func stallAndHalfOpen() throws {
        let h = try Harness()
        for kind in ["stall", "half_open"] {
            let (victim, _) = try h.connect()
            let (other, _) = try h.connect()
            let ids = h.server.sync { core, _ in core.connections().map { Int($0.raw) } }
            let victimID = ids[ids.count - 2]
            _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"\#(kind)","connection":\#(victimID)}"#)
            Thread.sleep(forTimeInterval: 0.1)
            victim.sendFrame(opcode: 0x9, Array("anyone?".utf8))
            #expect(throws: TestWebSocket.Failure.timeout) { _ = try victim.next(timeout: 0.4) }
            other.sendFrame(opcode: 0x9, Array("hi".utf8))
            #expect(try other.next().text == "hi")
            _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"close","connection":\#(victimID)}"#)
            _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"close","connection":\#(ids.last!)}"#)
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}
