import Foundation
@testable import SockeyeSim

/// Starts a simulator in-process on a free port and hands out real connections.
final class Harness {
    static let appToken = "xapp-1-A0SIMAPP01-1-simsecret"
    let server: SimServer
    var port: Int { server.port }

    /// `Tests/SockeyeSimTests/Fixtures` (kinds `block_suggestion`, `member_joined_channel`).
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path

    init(fixtures: String? = nil, _ configure: (inout SimConfig) -> Void = { _ in }) throws {
        var o = SimServer.Options()
        o.fixtures = fixtures
        configure(&o.config)
        server = try SimServer(o)
    }

    deinit { server.stop() }

    func open(token: String = Harness.appToken) throws -> TestHTTP.Response {
        try TestHTTP.request(port: port, path: "/api/apps.connections.open",
                             headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/x-www-form-urlencoded"])
    }

    func url(debugReconnects: Bool = false, token: String = Harness.appToken) throws -> String {
        let r = try open(token: token)
        guard let url = r.json["url"] as? String else { throw TestWebSocket.Failure.handshake(r.body) }
        return debugReconnects ? url + "&debug_reconnects=true" : url
    }

    /// Opens a WebSocket (for the app of `token`) and reads its first message (`hello` or a disconnect).
    func connect(debugReconnects: Bool = false, token: String = Harness.appToken) throws -> (TestWebSocket, [String: Any]) {
        let ws = try TestWebSocket(url: url(debugReconnects: debugReconnects, token: token))
        let first = try ws.next()
        return (ws, Self.json(first.text))
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    func report() -> SimReport { server.sync { core, now in core.report(now: now) } }

    func inject(_ kind: String, count: Int = 1, app: Int = 0) { _ = server.sync { core, now in core.inject(kind: kind, count: count, app: app, now: now) } }

    /// Waits (bounded) until `condition` on the report holds.
    func wait(timeout: Double = 5, _ condition: (SimReport) -> Bool) -> SimReport {
        let deadline = Date().addingTimeInterval(timeout)
        var r = report()
        while !condition(r), Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
            r = report()
        }
        return r
    }
}
