import Foundation
import Testing
@testable import SockeyeSim

@Suite("WebSocket: hello, tickets, limit, pings")
struct SocketTests {
    @Test("hello carries num_connections, connection_info.app_id and debug_info; 18060 s default lifetime")
    func hello() throws {
        let h = try Harness()
        let (first, hello) = try h.connect()
        defer { withExtendedLifetime(first) {} }
        #expect(hello["type"] as? String == "hello")
        #expect(hello["num_connections"] as? Int == 1)
        #expect((hello["connection_info"] as? [String: Any])?["app_id"] as? String == "A0SIMAPP01")
        let debug = try #require(hello["debug_info"] as? [String: Any])
        #expect(debug["host"] as? String == "applink-7fc4fdbb64-4x5xq")
        #expect(debug["build_number"] as? Int == 54)
        #expect(debug["approximate_connection_time"] as? Int == 18060)
        let (_, second) = try h.connect(debugReconnects: true)
        #expect(second["num_connections"] as? Int == 2)
        #expect((second["debug_info"] as? [String: Any])?["approximate_connection_time"] as? Int == 360)
    }

    @Test("several apps: each token opens its own app's connections, with its own app_id, limit and payloads")
    func multipleApps() throws {
        let h = try Harness { $0.apps.append(SimConfig.App(appID: "A0SIMAPP02", appTokens: ["xapp-1-A0SIMAPP02-1-other"])) }
        let (one, helloOne) = try h.connect()
        let r = try h.open(token: "xapp-1-A0SIMAPP02-1-other")
        let two = try TestWebSocket(url: try #require(r.json["url"] as? String))
        let helloTwo = Harness.json(try two.next().text)
        #expect((helloOne["connection_info"] as? [String: Any])?["app_id"] as? String == "A0SIMAPP01")
        #expect((helloTwo["connection_info"] as? [String: Any])?["app_id"] as? String == "A0SIMAPP02")
        #expect(helloTwo["num_connections"] as? Int == 1)
        _ = try TestHTTP.admin(h.port, "/admin/inject", #"{"kind":"reaction_added","count":2,"app":1}"#)
        #expect(Harness.json(try two.next().text)["type"] as? String == "events_api")
        #expect(Harness.json(try two.next().text)["type"] as? String == "events_api")
        #expect(throws: TestWebSocket.Failure.timeout) { _ = try one.next(timeout: 0.3) }
        // A ticket of one app presented with the other's app_id is refused.
        let url = try h.url()
        let otherKey = h.server.sync { core, _ in core.appKey(1) }
        let forged = url.replacingOccurrences(of: String(url.split(separator: "=").last!), with: otherKey)
        #expect(throws: (any Error).self) { _ = try TestWebSocket(url: forged) }
    }

    @Test("a ticket is single use; unknown and expired tickets are refused at the upgrade")
    func tickets() throws {
        let h = try Harness { $0.ticketTTL = 0.3 }
        let url = try h.url()
        _ = try TestWebSocket(url: url)
        do {
            _ = try TestWebSocket(url: url)
            Issue.record("a reused ticket was accepted")
        } catch TestWebSocket.Failure.handshake(let response) {
            #expect(response.hasPrefix("HTTP/1.") && response.contains(" 403 "))
        }
        #expect(throws: (any Error).self) { _ = try TestWebSocket(url: "ws://127.0.0.1:\(h.port)/link/?ticket=\(UUID().uuidString.lowercased())&app_id=00") }
        #expect(throws: (any Error).self) { _ = try TestWebSocket(url: "ws://127.0.0.1:\(h.port)/link/?") }
        let stale = try h.url()
        Thread.sleep(forTimeInterval: 0.4)
        #expect(throws: (any Error).self) { _ = try TestWebSocket(url: stale) }
        // The server keeps serving after refusals.
        let (_, hello) = try h.connect()
        #expect(hello["type"] as? String == "hello")
    }

    @Test("the 11th connection gets disconnect too_many_websockets instead of hello, then a close")
    func connectionLimit() throws {
        let h = try Harness()
        var sockets: [TestWebSocket] = []
        for i in 1...10 {
            let (ws, hello) = try h.connect()
            #expect(hello["num_connections"] as? Int == i)
            sockets.append(ws)
        }
        let (extra, msg) = try h.connect()
        #expect(msg["type"] as? String == "disconnect")
        #expect(msg["reason"] as? String == "too_many_websockets")
        let close = try extra.next()
        #expect(close.opcode == 0x8)
        // Freeing a slot lets the next one in.
        sockets.removeLast().sendFrame(opcode: 0x8, [0x03, 0xE8])
        Thread.sleep(forTimeInterval: 0.2)
        let (_, again) = try h.connect()
        #expect(again["type"] as? String == "hello")
        #expect(again["num_connections"] as? Int == 10)
    }

    @Test("server pings carry 'Ping from <host>'; client pings are answered with pongs echoing the payload")
    func pings() throws {
        let h = try Harness { $0.pingInterval = 0.1 }
        let (ws, _) = try h.connect()
        ws.sendFrame(opcode: 0x9, Array("session-1:12345".utf8))
        let pong = try ws.next()
        #expect(pong.opcode == 0xA)
        #expect(pong.text == "session-1:12345")
        Thread.sleep(forTimeInterval: 0.3)
        ws.sendFrame(opcode: 0x9, Array("x".utf8))
        _ = try ws.next()
        #expect(ws.pings.first == "Ping from applink-7fc4fdbb64-4x5xq")
    }

    @Test("with maxMissedPongs, a client that never pongs is dropped")
    func missedPongs() throws {
        let h = try Harness { $0.pingInterval = 0.05; $0.maxMissedPongs = 2 }
        let (ws, _) = try h.connect()
        ws.autoPong = false
        #expect(throws: TestWebSocket.Failure.closed) { while true { _ = try ws.next(timeout: 2) } }
        let (ok, _) = try h.connect()
        for _ in 0..<6 { #expect(throws: TestWebSocket.Failure.timeout) { _ = try ok.next(timeout: 0.05) } }
        ok.sendFrame(opcode: 0x9, Array("alive".utf8))
        #expect(try ok.next().text == "alive")
    }
}
