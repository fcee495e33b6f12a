import Foundation
import SockeyeBridge
import SockeyeDaemon
import SockeyeSinkKit
import Testing

@Suite("sockeyed HTTP forwarder: headers from outside", .serialized)
struct ForwarderHeaderTests {
    static let secret = "forwarder-header-secret"

    @Test("retry_reason is passed on only when it is one of Slack's tokens; CR/LF, other bytes and long values are left out")
    func retryReason() async throws {
        let backend = BackendApp(secret: Self.secret)
        let server = Task { try await backend.service().run() }
        defer { server.cancel() }
        #expect(await eventually { backend.port.withLock { $0 } != nil })
        let port = try #require(backend.port.withLock { $0 })
        let sink = HTTPForwarderSink(name: "forward", settings: HTTPForwardSettings(eventsURL: "http://127.0.0.1:\(port)/ok", signingSecret: Self.secret),
                                     logger: quietLogger)
        let cases: [(String?, String?)] = [
            ("http_timeout", "http_timeout"),
            (nil, "timeout"),
            ("http_timeout\r\nX-Injected: yes", nil),
            ("http_timeout\nX-Injected: yes", nil),
            (String(repeating: "a", count: 5000), nil),
            ("HTTP_TIMEOUT", nil),
            ("timeout;x=1", nil),
            ("tímeout", nil),
        ]
        for (index, (reason, expected)) in cases.enumerated() {
            let record = ingressRecord(eventID: "Ev0RETRY\(index)", retryNumber: "2", retryReason: reason)
            let outcome = await sink.accept([record])
            #expect(outcome.refused.isEmpty, "\(String(describing: reason?.prefix(40))): \(outcome)")
            let seen = backend.seen.withLock { $0.last }
            #expect(seen?.body.contains("Ev0RETRY\(index)") == true, "the request for case \(index) did not arrive")
            #expect(seen?.retryNumber == "2" && seen?.signatureValid == true)
            #expect(seen?.retryReason == expected, "case \(index): \(String(describing: seen?.retryReason?.prefix(40)))")
            #expect(seen?.injected == false, "case \(index): a header was injected")
        }
        #expect(backend.seen.withLock { $0.count } == cases.count)
        await sink.close()
    }
}
