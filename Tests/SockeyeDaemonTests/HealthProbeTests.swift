import SockeyeOperations
import Testing

/// `sockeyed healthcheck`'s decisions: the address it asks, its request, and what an
/// answer's status line means.
@Suite("sockeyed healthcheck: the probe")
struct HealthProbeTests {
    @Test("wildcards and localhost are asked on loopback; names and malformed addresses are refused")
    func addresses() {
        let cases: [(String, String?, Int?)] = [
            ("127.0.0.1:9464", "127.0.0.1", 9464), ("0.0.0.0:9464", "127.0.0.1", 9464), (":9464", "127.0.0.1", 9464),
            ("localhost:8080", "127.0.0.1", 8080), ("[::]:9464", "::1", 9464), ("[::1]:9464", "::1", 9464),
            ("10.0.0.5:9464", "10.0.0.5", 9464),
            ("example.com:9464", nil, nil), ("127.0.0.1", nil, nil), ("127.0.0.1:0", nil, nil), ("127.0.0.1:70000", nil, nil),
            ("127.0.0.1:x", nil, nil), ("[::1]", nil, nil),
        ]
        for (address, host, port) in cases {
            let probe = HealthProbe(address: address, ready: false)
            #expect(probe?.host == host && probe?.port == port, "\(address)")
        }
    }

    @Test("the request: GET of /healthz or /readyz with a Host the listener accepts, closing after the answer")
    func request() {
        let health = HealthProbe(address: "0.0.0.0:9464", ready: false)
        #expect(health.map { String(decoding: $0.request, as: UTF8.self) }
            == "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:9464\r\nUser-Agent: sockeyed-healthcheck\r\nConnection: close\r\n\r\n")
        let ready = HealthProbe(address: "[::1]:9000", ready: true)
        #expect(ready.map { String(decoding: $0.request, as: UTF8.self).hasPrefix("GET /readyz HTTP/1.1\r\nHost: [::1]:9000\r\n") } == true)
    }

    @Test("200 is healthy; another status is not, with its line; a partial line waits; anything else is malformed")
    func verdicts() {
        func verdict(_ text: String) -> HealthProbe.Verdict { HealthProbe.verdict(Array(text.utf8)) }
        #expect(verdict("HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nok\n") == .healthy)
        #expect(verdict("HTTP/1.0 200 OK\r\n") == .healthy)
        #expect(verdict("HTTP/1.1 503 Service Unavailable\r\n") == .unhealthy("HTTP/1.1 503 Service Unavailable"))
        #expect(verdict("HTTP/1.1 421 Misdirected Request\r\n") == .unhealthy("HTTP/1.1 421 Misdirected Request"))
        #expect(verdict("HTTP/1.1 20") == .incomplete)
        #expect(verdict("") == .incomplete)
        #expect(verdict("SSH-2.0-OpenSSH\r\n") == .malformed)
        #expect(verdict("HTTP/1.1 abc\r\n") == .malformed)
        #expect(HealthProbe.verdict([UInt8](repeating: 0x41, count: HealthProbe.maxStatusLineBytes + 1)) == .malformed)
    }
}
