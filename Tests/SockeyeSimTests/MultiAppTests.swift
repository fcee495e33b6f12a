import Foundation
import Testing
@testable import SockeyeSim

/// A second app next to the Harness's default `A0SIMAPP01`.
let secondApp = SimConfig.App(appID: "A0SIMAPP02", appTokens: ["xapp-1-A0SIMAPP02-1-simsecret"])

/// `payload.type` of an envelope frame (`event_callback`, `app_rate_limited`, …).
func payloadType(_ env: [String: Any]) -> String? { (env["payload"] as? [String: Any])?["type"] as? String }

@Suite("Several apps: the events disabling rule per app, admin and load per app")
struct MultiAppTests {
    @Test("an app that never acks is disabled on its own; another app keeps receiving and acking events")
    func disableRulePerApp() throws {
        let h = try Harness {
            $0.apps.append(secondApp)
            $0.disableMinDeliveries = 20; $0.ackDeadline = 0.1; $0.retryDelays = []
        }
        let (a, _) = try h.connect()
        let (b, helloB) = try h.connect(token: secondApp.appTokens[0])
        #expect((helloB["connection_info"] as? [String: Any])?["app_id"] as? String == "A0SIMAPP02")

        // B acks one event, A never acks 40: together 1 acked in 41 (< 5 %), so a rule
        // shared by all apps would disable B as well.
        h.inject("message", app: 1)
        #expect(ackAll(b, count: 1, timeout: 5) == 1)
        _ = h.wait { $0.total.acked == 1 }
        h.inject("message", count: 40, app: 0)
        var rateLimited: [String: Any]?
        var seenByA = 0
        let deadline = Date().addingTimeInterval(5)
        while rateLimited == nil, Date() < deadline {
            guard let f = try? a.next(timeout: 0.5) else { continue }
            let env = Harness.json(f.text)
            if payloadType(env) == "app_rate_limited" { rateLimited = env["payload"] as? [String: Any] } else { seenByA += 1 }
        }
        let payload = try #require(rateLimited)
        #expect(payload["api_app_id"] as? String == "A0SIMAPP01")
        #expect(seenByA == 40)

        // A's next events are dropped; B's arrive and are acked, and B never hears of A's limit.
        h.inject("message", count: 3, app: 0)
        h.inject("message", count: 5, app: 1)
        var typesB: [String] = []
        let until = Date().addingTimeInterval(5)
        while typesB.count < 5, Date() < until {
            guard let f = try? b.next(timeout: 0.5) else { continue }
            let env = Harness.json(f.text)
            typesB.append(payloadType(env) ?? "?")
            if let id = env["envelope_id"] as? String { b.sendText(#"{"envelope_id":"\#(id)"}"#) }
        }
        #expect(typesB == Array(repeating: "event_callback", count: 5))
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try b.next(timeout: 0.3) }

        let r = h.wait { $0.apps.count == 2 && $0.apps[0].droppedWhileDisabled == 3 && $0.apps[1].windowAcked == 6 }
        #expect(r.apps.map(\.app) == ["A0SIMAPP01", "A0SIMAPP02"])
        #expect(r.apps[0].eventsDisabled)
        #expect(r.apps[0].droppedWhileDisabled == 3)
        #expect(r.apps[0].windowAcked == 0)
        #expect(!r.apps[1].eventsDisabled)
        #expect(r.apps[1].droppedWhileDisabled == 0)
        #expect(r.apps[1].windowDelivered == 6 && r.apps[1].windowAcked == 6)
        #expect(r.eventsDisabled)
        #expect(r.droppedWhileDisabled == 3)
        #expect(r.connections.first { $0.app == "A0SIMAPP02" }?.counters.acked == 6)
        #expect(r.table().contains("events disabled: A0SIMAPP01 (dropped 3)"))
    }

    @Test("admin events and the load generator take an app index; the other app is untouched")
    func adminAndLoadPerApp() throws {
        let h = try Harness { $0.apps.append(secondApp) }
        let (a, _) = try h.connect()
        let (b, _) = try h.connect(token: secondApp.appTokens[0])

        let off = try TestHTTP.admin(h.port, "/admin/events", #"{"enabled":false,"app":1}"#)
        #expect(off.json["disabled"] as? Bool == true)
        let limited = Harness.json(try b.next(containing: "app_rate_limited").text)
        #expect((limited["payload"] as? [String: Any])?["api_app_id"] as? String == "A0SIMAPP02")
        b.sendText(#"{"envelope_id":"\#(limited["envelope_id"] as? String ?? "")"}"#)
        let bad = try TestHTTP.admin(h.port, "/admin/events", #"{"enabled":false,"app":2}"#)
        #expect(bad.json["error"] as? String == "unknown_app")

        // Load for app 0 while app 1 is disabled: all of it reaches A, nothing reaches B.
        #expect(h.server.startLoad(LoadSpec(window: 10, total: 50, sizes: [512], app: 0)))
        #expect(ackAll(a, count: 50, timeout: 10) == 50)
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try b.next(timeout: 0.3) }

        // Re-enable app 1 and load it through the admin API: sized messages carry its app id.
        let on = try TestHTTP.admin(h.port, "/admin/events", #"{"enabled":true,"app":1}"#)
        #expect(on.json["disabled"] as? Bool == false)
        let load = try TestHTTP.admin(h.port, "/admin/load", #"{"window":10,"total":30,"sizes":[512],"app":1}"#)
        #expect(load.json["ok"] as? Bool == true)
        let first = Harness.json(try b.next().text)
        #expect((first["payload"] as? [String: Any])?["api_app_id"] as? String == "A0SIMAPP02")
        b.sendText(#"{"envelope_id":"\#(first["envelope_id"] as? String ?? "")"}"#)
        #expect(ackAll(b, count: 29, timeout: 10) == 29)
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try a.next(timeout: 0.3) }
        let unknown = try TestHTTP.admin(h.port, "/admin/load", #"{"total":1,"app":5}"#)
        #expect(unknown.json["error"] as? String == "unknown_app")

        let r = h.wait { $0.total.acked == 81 }
        #expect(r.connections.first { $0.app == "A0SIMAPP01" }?.counters.acked == 50)
        #expect(r.connections.first { $0.app == "A0SIMAPP02" }?.counters.acked == 31)
        #expect(r.apps.map(\.droppedWhileDisabled) == [0, 0])
        #expect(!r.eventsDisabled)
    }
}
