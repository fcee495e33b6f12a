import SockeyeCore
import Testing

@Suite("ConnectionsOpenCall refuses a downgrade")
struct ConnectionsOpenDowngradeTests {
    /// The result of a 200 answer carrying `url`, for a call made to `base`.
    func result(url: String, base: String) throws -> ConnectionsOpenResult {
        let body = "{\"ok\":true,\"url\":\"\(url)\"}"
        let raw = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        guard case .success(let response?) = parseHTTP(raw, end: true) else {
            Issue.record("the test answer does not parse")
            return .transportFailure("unparsed")
        }
        return ConnectionsOpenCall.result(of: response, apiBase: try EndpointURL(base))
    }

    @Test("a ws:// URL answered to an https:// API base is a transport failure that names the downgrade")
    func wsForHTTPSIsRefused() throws {
        let outcome = try result(url: "ws://wss-primary.slack.com/link/?ticket=1", base: "https://slack.com/api/")
        guard case .transportFailure(let message) = outcome else {
            Issue.record("a ws:// URL was accepted for an https:// API base: \(outcome)")
            return
        }
        #expect(message.contains("downgrade"))
        #expect(message.contains("ws://wss-primary.slack.com"))
        #expect(!outcome.isFatal)  // the pool asks again after its backoff
    }

    @Test("wss:// for https://, and ws:// or wss:// for a plain http:// API base (a simulator), are accepted")
    func matchingSchemesAreAccepted() throws {
        #expect(try result(url: "wss://wss-primary.slack.com/link/", base: "https://slack.com/api/") == .url("wss://wss-primary.slack.com/link/"))
        #expect(try result(url: "ws://127.0.0.1:9/link", base: "http://127.0.0.1:8/api/") == .url("ws://127.0.0.1:9/link"))
        #expect(try result(url: "wss://127.0.0.1:9/link", base: "http://127.0.0.1:8/api/") == .url("wss://127.0.0.1:9/link"))
    }
}
