import Logging
@testable import Sockeye
import SockeyeCore
import Testing

@Suite("The client's notice log lines show URLs without credentials, query or fragment")
struct NoticeLogRedactionTests {
    static let secrets = ["pA55w0rd-zq", "tkt-s3cret", "qry-s3cret", "frag-s3cret"]

    /// The lines `notice` writes to a logger at debug level.
    func lines(of notice: SocketModeNotice) -> [String] {
        let lines = LogLines()
        var logger = Logger(label: "sockeye-tests", factory: { _ in LineHandler(lines: lines) })
        logger.logLevel = .debug
        notice.log(to: logger)
        return lines.all
    }

    @Test("a transport error, an open failure and a loss that quote a URL", arguments: [
        SocketModeNotice.transport(.upgrade("redirected to wss://user:pA55w0rd-zq@wss.example/link/?ticket=tkt-s3cret#frag-s3cret")),
        .transport(.connect(host: "proxy", port: 3128, reason: "via http://user:pA55w0rd-zq@proxy.example:3128/?token=qry-s3cret: refused")),
        .pool(.openFailed(.transportFailure("POST https://u:pA55w0rd-zq@api.example/api/apps.connections.open?token=qry-s3cret failed"),
                          retryIn: .seconds(2))),
        .pool(.openFailed(.url("wss://wss.example/link/?ticket=tkt-s3cret"), retryIn: .seconds(1))),
        .pool(.connectionLost(ConnectionID(rawValue: 3), reason: .connectFailed("wss://wss.example/link/?ticket=tkt-s3cret: reset"))),
    ])
    func redacted(_ notice: SocketModeNotice) {
        let written = lines(of: notice)
        #expect(written.count == 1, "\(written)")
        let text = written.joined(separator: "\n")
        #expect(text.contains("example"), "the line lost the URL's host: \(text)")
        for secret in Self.secrets {
            #expect(!text.contains(secret), "\(secret) in: \(text)")
        }
    }
}
