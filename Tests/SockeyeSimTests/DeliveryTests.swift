import Foundation
import Testing
@testable import SockeyeSim

@Suite("Envelopes, acks and retries")
struct DeliveryTests {
    @Test("each envelope type has a UUID envelope_id and the right accepts_response_payload; acks are matched")
    func envelopes() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let expected: [String: (String, Bool)] = [
            "message": ("events_api", false), "app_mention": ("events_api", false), "reaction_added": ("events_api", false),
            "slash_command": ("slash_commands", true), "block_actions": ("interactive", false),
            "shortcut": ("interactive", false), "view_submission": ("interactive", true),
        ]
        for (kind, (type, accepts)) in expected.sorted(by: { $0.key < $1.key }) {
            h.inject(kind)
            let f = try ws.next()
            #expect(f.opcode == 0x1)
            let env = Harness.json(f.text)
            #expect(env["type"] as? String == type, "\(kind)")
            #expect(env["accepts_response_payload"] as? Bool == accepts, "\(kind)")
            let id = try #require(env["envelope_id"] as? String)
            #expect(UUID(uuidString: id) != nil)
            #expect(env["payload"] is [String: Any])
            if type == "events_api" {
                #expect(env["retry_attempt"] as? Int == 0)
                #expect(env["retry_reason"] as? String == "")
                #expect(((env["payload"] as? [String: Any])?["event_id"] as? String)?.hasPrefix("Ev") == true)
            }
            if kind == "view_submission" { #expect(f.payload.count > 60_000) }
            if kind == "message" { #expect(f.text.contains("🐟") && f.text.contains("日本語")) }
            ws.sendText(#"{"envelope_id":"\#(id)"}"#)
        }
        let r = h.wait { $0.total.acked == expected.count }
        #expect(r.total.delivered == expected.count)
        #expect(r.total.acked == expected.count)
        #expect(r.latencyMs.count == expected.count)
    }

    @Test("no ack in time: events are redelivered with retry_attempt 1…3, reason timeout, same event_id, new envelope_id, then failed")
    func redelivery() throws {
        let h = try Harness { $0.ackDeadline = 0.2; $0.retryDelays = [0, 0.1, 0.1] }
        let (ws, _) = try h.connect()
        h.inject("app_mention")
        var ids: Set<String> = []
        var eventIDs: Set<String> = []
        for attempt in 0...3 {
            let env = Harness.json(try ws.next(timeout: 3).text)
            #expect(env["retry_attempt"] as? Int == attempt)
            #expect(env["retry_reason"] as? String == (attempt == 0 ? "" : "timeout"))
            ids.insert(env["envelope_id"] as? String ?? "")
            eventIDs.insert((env["payload"] as? [String: Any])?["event_id"] as? String ?? "")
        }
        #expect(ids.count == 4)
        #expect(eventIDs.count == 1)
        let r = h.wait { $0.total.failedAfterRetries == 1 }
        #expect(r.total.failedAfterRetries == 1)
        #expect(r.total.redelivered == 3)
        #expect(r.total.delivered == 4)
    }

    @Test("newEnvelopeIDPerRetry = false keeps the envelope id across retries; an ack of the retry settles it")
    func sameIDRetries() throws {
        let h = try Harness { $0.ackDeadline = 0.2; $0.retryDelays = [0, 0.05, 0.05]; $0.newEnvelopeIDPerRetry = false }
        let (ws, _) = try h.connect()
        h.inject("message")
        let first = Harness.json(try ws.next().text)
        let second = Harness.json(try ws.next(timeout: 2).text)
        #expect(second["retry_attempt"] as? Int == 1)
        let id = try #require(first["envelope_id"] as? String)
        #expect(second["envelope_id"] as? String == id)
        ws.sendText(#"{"envelope_id":"\#(id)"}"#)
        let r = h.wait { $0.total.acked == 1 }
        #expect(r.total.acked == 1)
        #expect(r.total.redelivered == 1)
        #expect(r.total.failedAfterRetries == 0)
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try ws.next(timeout: 0.5) }
    }

    @Test("stick_to_ghost routing sends every payload to a ghost registration while one exists")
    func stickToGhost() throws {
        let h = try Harness { $0.routing = .stickToGhost; $0.ackDeadline = 0.2; $0.retryDelays = [] }
        let (ws, _) = try h.connect()
        _ = try TestHTTP.admin(h.port, "/admin/fault", #"{"kind":"ghosts","count":1,"seconds":60}"#)
        h.inject("shortcut", count: 3)
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try ws.next(timeout: 0.5) }
        let r = h.wait { $0.total.userVisibleFailures == 3 }
        #expect(r.total.userVisibleFailures == 3)
    }

    @Test("slash commands and interactive payloads are not retried; they count as user-visible failures")
    func interactiveNotRetried() throws {
        let h = try Harness { $0.ackDeadline = 0.15 }
        let (ws, _) = try h.connect()
        h.inject("slash_command")
        h.inject("block_actions")
        _ = try ws.next()
        _ = try ws.next()
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try ws.next(timeout: 0.6) }
        let r = h.wait { $0.total.userVisibleFailures == 2 }
        #expect(r.total.userVisibleFailures == 2)
        #expect(r.total.redelivered == 0)
    }

    @Test("duplicate, unknown and late acks are counted; response payloads only count where accepted")
    func ackBookkeeping() throws {
        let h = try Harness { $0.ackDeadline = 0.3; $0.retryDelays = [] }
        let (ws, _) = try h.connect()
        h.inject("view_submission")
        let id = try #require(Harness.json(try ws.next().text)["envelope_id"] as? String)
        ws.sendText(#"{"envelope_id":"\#(id)","payload":{"response_action":"errors","errors":{"b":"Too short"}}}"#)
        ws.sendText(#"{"envelope_id":"\#(id)"}"#)
        ws.sendText(#"{"envelope_id":"\#(UUID().uuidString)"}"#)
        h.inject("message")
        let late = try #require(Harness.json(try ws.next().text)["envelope_id"] as? String)
        Thread.sleep(forTimeInterval: 0.5)
        ws.sendText(#"{"envelope_id":"\#(late)","payload":{}}"#)
        let r = h.wait { $0.total.lateAcks == 1 }
        #expect(r.total.acked == 1)
        #expect(r.total.responsePayloads == 1)
        #expect(r.total.duplicateAcks == 1)
        #expect(r.total.unknownAcks == 1)
        #expect(r.total.lateAcks == 1)
        #expect(r.total.failedAfterRetries == 1)
    }

    @Test("acks are accepted on another connection of the app by default, refused when configured same-connection")
    func ackOnOtherConnection() throws {
        for any in [true, false] {
            let h = try Harness { $0.acksOnAnyConnection = any; $0.routing = .roundRobin }
            let (a, _) = try h.connect()
            let (b, _) = try h.connect()
            h.inject("message", count: 2)
            let first = Harness.json(try a.next().text)["envelope_id"] as? String ?? ""
            let second = Harness.json(try b.next().text)["envelope_id"] as? String ?? ""
            b.sendText(#"{"envelope_id":"\#(first)"}"#)
            a.sendText(#"{"envelope_id":"\#(second)"}"#)
            let r = h.wait { $0.total.acked + $0.total.wrongConnectionAcks == 2 }
            #expect(r.total.acked == (any ? 2 : 0))
            #expect(r.total.wrongConnectionAcks == (any ? 0 : 2))
        }
    }

    @Test("payloads spread round-robin over all open connections")
    func roundRobin() throws {
        let h = try Harness()
        let sockets = try (0..<3).map { _ in try h.connect().0 }
        h.inject("reaction_added", count: 9)
        for ws in sockets {
            for _ in 0..<3 { #expect(Harness.json(try ws.next().text)["type"] as? String == "events_api") }
        }
    }

    @Test("fixtures from a folder become payload kinds; accepts_response_payload follows Slack's rules; event ids are unique")
    func fixtures() throws {
        var o = SimServer.Options()
        o.fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
        let server = try SimServer(o)
        defer { server.stop() }
        let r = try TestHTTP.request(port: server.port, path: "/api/apps.connections.open", headers: ["Authorization": "Bearer \(Harness.appToken)"])
        let ws = try TestWebSocket(url: try #require(r.json["url"] as? String))
        _ = try ws.next()
        #expect(server.inject(kind: "block_suggestion"))
        let suggestion = Harness.json(try ws.next().text)
        #expect(suggestion["type"] as? String == "interactive")
        #expect(suggestion["accepts_response_payload"] as? Bool == true)
        #expect(server.inject(kind: "member_joined_channel", count: 2))
        let e1 = Harness.json(try ws.next().text), e2 = Harness.json(try ws.next().text)
        #expect(e1["accepts_response_payload"] as? Bool == false)
        let id1 = (e1["payload"] as? [String: Any])?["event_id"] as? String
        let id2 = (e2["payload"] as? [String: Any])?["event_id"] as? String
        #expect(id1 != nil && id1 != id2)
        #expect(!server.inject(kind: "no_such_kind"))
    }

    @Test("random routing reaches every connection")
    func randomRouting() throws {
        let h = try Harness { $0.routing = .random }
        let a = try h.connect().0, b = try h.connect().0
        h.inject("reaction_added", count: 40)
        var counts = [0, 0]
        for (i, ws) in [a, b].enumerated() {
            while (try? ws.next(timeout: 0.3)) != nil { counts[i] += 1 }
        }
        #expect(counts[0] + counts[1] == 40)
        #expect(counts[0] > 0 && counts[1] > 0)
    }

    @Test("events that occur while no connection is open are delivered after the next hello")
    func queuedWhileDisconnected() throws {
        let h = try Harness()
        h.inject("message", count: 2)
        let (ws, hello) = try h.connect()
        #expect(hello["type"] as? String == "hello")
        #expect(Harness.json(try ws.next().text)["type"] as? String == "events_api")
        #expect(Harness.json(try ws.next().text)["type"] as? String == "events_api")
    }
}
