import Foundation
import Testing
@testable import SockeyeSim

@Suite("The simulator lists the event ids it saw acked")
struct AckedEventsTests {
    @Test("GET /admin/acked-events lists exactly the acked events, each once, in order; unacked and non-event envelopes are absent")
    func listsAckedEventIDs() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        h.inject("message", count: 6)
        var acked: [String] = []
        for index in 0..<6 {
            let frame = try ws.next(containing: "envelope_id", timeout: 5)
            let envelope = Harness.json(frame.text)
            let payload = envelope["payload"] as? [String: Any] ?? [:]
            // Ack every other one, and the first one twice (a duplicate ack).
            guard index % 2 == 0, let id = envelope["envelope_id"] as? String else { continue }
            ws.sendText(#"{"envelope_id":"\#(id)"}"#)
            if index == 0 { ws.sendText(#"{"envelope_id":"\#(id)"}"#) }
            acked.append(payload["event_id"] as? String ?? "?")
        }
        h.inject("slash_command", count: 1)
        let command = Harness.json(try ws.next(containing: "envelope_id", timeout: 5).text)
        ws.sendText(#"{"envelope_id":"\#(command["envelope_id"] as? String ?? "")"}"#)
        var listed: [String] = []
        for _ in 0..<100 {
            let reply = try TestHTTP.request(port: h.port, method: "GET", path: "/admin/acked-events").json
            listed = reply["event_ids"] as? [String] ?? []
            if listed.count >= 3, reply["count"] as? Int == listed.count { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(listed == acked.sorted() && listed.count == 3, "\(listed) vs \(acked)")
    }

    @Test("the bitset keeps each number once and lists them in order")
    func bitset() {
        var set = AckedEvents()
        for number: UInt64 in [5, 64, 1, 5, 1_000_000, 63] { set.insert(number) }
        #expect(set.count == 5 && set.numbers == [1, 5, 63, 64, 1_000_000])
        #expect(set.contains(64) && !set.contains(65))
        #expect(AckedEvents.eventID(42) == "Ev0000000000000042")
    }
}
