import Foundation
import Testing
@testable import SockeyeSim

@Suite("Lost envelopes in the report")
struct LossAccountingTests {
    @Test("events dropped while the app's events were disabled count as lost in the totals, the verdict, the JSON and the table")
    func droppedWhileDisabledIsLost() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        _ = try TestHTTP.admin(h.port, "/admin/events", #"{"enabled":false}"#)
        _ = try ws.next(containing: "app_rate_limited")
        h.inject("message", count: 4)
        let r = h.wait { $0.droppedWhileDisabled == 4 }
        #expect(r.total.failedAfterRetries == 0)
        #expect(r.total.droppedWhileDisabled == 4)
        #expect(r.lost == 4)
        #expect(r.verdict.hasPrefix("LOST 4"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as? [String: Any])
        #expect(json["lost"] as? Int == 4)
        #expect((json["total"] as? [String: Any])?["droppedWhileDisabled"] as? Int == 4)
        #expect((json["verdict"] as? String)?.hasPrefix("LOST 4") == true)
        #expect(r.table().contains("LOST 4"))
        #expect(r.table().contains("dropped while events disabled 4"))
    }

    @Test("a run where every envelope was acked says so")
    func cleanRun() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        h.inject("message", count: 3)
        #expect(ackAll(ws, count: 3, timeout: 5) == 3)
        let r = h.wait { $0.total.acked == 3 }
        #expect(r.lost == 0)
        #expect(r.verdict.hasPrefix("no envelope lost"))
        #expect(!r.table().contains("LOST"))
    }

    @Test("events failed after their retries and user-visible failures count as lost too")
    func failuresAreLost() throws {
        let h = try Harness { $0.ackDeadline = 0.1; $0.retryDelays = [] }
        let (ws, _) = try h.connect()
        h.inject("message", count: 2)
        h.inject("slash_command")
        let r = h.wait { $0.total.failedAfterRetries == 2 && $0.total.userVisibleFailures == 1 }
        withExtendedLifetime(ws) {}
        #expect(r.lost == 3)
        #expect(r.verdict.hasPrefix("LOST 3"))
    }
}
