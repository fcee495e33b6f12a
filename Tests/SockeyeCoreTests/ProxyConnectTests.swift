import SockeyeCore
import Testing

@Suite("ProxyConnect")
struct ProxyConnectTests {
    static let target = endpoint("wss://wss-primary.slack.com/link/?ticket=t")
    static let proxy = endpoint("http://proxy.corp:3128")
    static let established = Array("HTTP/1.1 200 Connection established\r\nProxy-Agent: squid\r\n\r\n".utf8)
    /// The first bytes of a TLS ServerHello record: what follows the answer in the same read.
    static let serverHello: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x7A, 0x02, 0x00, 0x00, 0x76]

    /// Feeds `pieces`; the result of the first call that returned non-nil (with its piece's
    /// index), nil if none did, or the error.
    func feed(_ handshake: inout ProxyConnect, _ pieces: [[UInt8]]) -> Result<(piece: Int, used: Int)?, ProxyConnectError> {
        for (index, piece) in pieces.enumerated() {
            do throws(ProxyConnectError) {
                if let used = try handshake.feed(piece) {
                    return .success((index, used))
                }
            } catch {
                return .failure(error)
            }
        }
        return .success(nil)
    }

    func answerError(_ answer: String, proxy: EndpointURL = proxy) -> ProxyConnectError? {
        var handshake = ProxyConnect(target: Self.target, proxy: proxy, userAgent: "sockeye-test")
        if case .failure(let error) = feed(&handshake, [Array(answer.utf8)]) { return error }
        return nil
    }

    @Test("the request without credentials is CONNECT host:port, Host and User-Agent")
    func requestWithoutCredentials() {
        let handshake = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "sockeye/0.1")
        #expect(handshake.request.httpText == "CONNECT wss-primary.slack.com:443 HTTP/1.1\r\nHost: wss-primary.slack.com:443\r\nUser-Agent: sockeye/0.1\r\n\r\n")
        #expect(!handshake.sentCredentials)
    }

    @Test("credentials in the proxy URL are sent as Basic base64(user:password), percent-decoded first")
    func requestWithCredentials() {
        let handshake = ProxyConnect(target: endpoint("https://slack.com/api/"), proxy: endpoint("http://alice:p%40ss@proxy:3128"), userAgent: "ua")
        // base64("alice:p@ss")
        #expect(handshake.request.httpText == "CONNECT slack.com:443 HTTP/1.1\r\nHost: slack.com:443\r\nProxy-Authorization: Basic YWxpY2U6cEBzcw==\r\nUser-Agent: ua\r\n\r\n")
        #expect(handshake.sentCredentials)
        let userOnly = ProxyConnect(target: endpoint("https://h/"), proxy: endpoint("http://bob@proxy"), userAgent: "ua")
        #expect(userOnly.request.httpText.contains("Proxy-Authorization: Basic Ym9iOg==\r\n"))  // "bob:"
    }

    @Test("an IPv6 target is bracketed and a non-default port kept")
    func ipv6Target() {
        let handshake = ProxyConnect(target: endpoint("ws://[2001:db8::1]:9000/"), proxy: Self.proxy, userAgent: "ua")
        #expect(handshake.request.httpText.hasPrefix("CONNECT [2001:db8::1]:9000 HTTP/1.1\r\nHost: [2001:db8::1]:9000\r\n"))
    }

    @Test("control characters in the user agent cannot inject a header")
    func noHeaderInjection() {
        let handshake = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua\r\nX-Evil: 1")
        #expect(handshake.request.httpText.contains("User-Agent: uaX-Evil: 1\r\n\r\n"))
        #expect(!handshake.request.httpText.contains("\r\nX-Evil"))
    }

    @Test("a 200 answer split at every byte completes once, and tunnel bytes after it are left over")
    func splitEverywhere() {
        let bytes = Self.established + Self.serverHello
        let headLength = Self.established.count
        for pieces in everySplit(bytes) {
            var handshake = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
            let result = feed(&handshake, pieces)
            guard case .success(let done?) = result else {
                Issue.record("no completion for \(pieces.map(\.count)): \(result)")
                continue
            }
            // The completing call used exactly the head bytes it carried.
            let before = pieces[..<done.piece].reduce(0) { $0 + $1.count }
            #expect(before + done.used == headLength, "pieces \(pieces.map(\.count))")
            #expect(done.used <= pieces[done.piece].count)
            let leftover = Array(pieces[done.piece][done.used...]) + pieces[(done.piece + 1)...].flatMap { $0 }
            #expect(leftover == Self.serverHello)
        }
    }

    @Test("after success every call returns 0: all further bytes are tunnel data")
    func afterSuccess() throws {
        var handshake = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        #expect(try feed(&handshake, [Self.established]).get()?.used == Self.established.count)
        #expect(try feed(&handshake, [Array("HTTP/1.1 500 x\r\n\r\n".utf8)]).get()?.used == 0)
        #expect(throws: Never.self) { try handshake.receiveEnd() }
    }

    @Test("a 200 answer's Content-Length is ignored: the tunnel starts right after the head")
    func contentLengthIgnored() throws {
        var handshake = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        let head = Array("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n".utf8)
        #expect(try feed(&handshake, [head + Self.serverHello]).get()?.used == head.count)
    }

    @Test("a bare-LF answer and interim 1xx answers are accepted")
    func lenientAnswers() throws {
        var bare = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        #expect(try feed(&bare, [Array("HTTP/1.0 200 OK\n\nX".utf8)]).get()?.used == 17)
        var interim = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        let answer = Array("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n".utf8)
        #expect(try feed(&interim, [answer]).get()?.used == answer.count)
    }

    @Test("407 without credentials asks for them and passes on the proxy's challenge")
    func authenticationRequired() {
        let answer = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n"
        let error = answerError(answer)
        #expect(error == .authenticationRequired(challenge: "Basic realm=\"corp\""))
        #expect(error?.description.contains("no credentials were configured") == true)
        #expect(error?.description.contains("only Basic") == false)
    }

    @Test("407 after sending credentials says they were rejected, and names a scheme we cannot do")
    func credentialsRejected() {
        let answer = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Negotiate\r\n\r\n"
        let error = answerError(answer, proxy: endpoint("http://alice:wrong@proxy:3128"))
        #expect(error == .credentialsRejected(challenge: "Negotiate"))
        #expect(error?.description.contains("\"Negotiate\" (only Basic is supported)") == true)
        #expect(answerError("HTTP/1.1 407 x\r\n\r\n", proxy: endpoint("http://alice:pw@proxy")) == .credentialsRejected(challenge: nil))
    }

    @Test("403 and 502 are refusals carrying status and reason; the body after them is ignored")
    func refused() {
        #expect(answerError("HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\n\r\nAccess denie") == .refused(status: 403, reason: "Forbidden"))
        let error = answerError("HTTP/1.1 502 Bad Gateway\r\n\r\n<html>")
        #expect(error == .refused(status: 502, reason: "Bad Gateway"))
        #expect(error?.description == "the proxy refused the tunnel: 502 Bad Gateway")
        #expect(answerError("HTTP/1.1 301 Moved\r\nLocation: http://x/\r\n\r\n") == .refused(status: 301, reason: "Moved"))
    }

    @Test("an answer that is not HTTP is malformed")
    func malformed() {
        #expect(answerError("SSH-2.0-OpenSSH_9.2\r\n") == .malformedResponse(.malformedStatusLine))
        #expect(answerError("HTTP/2 200\r\n\r\n") == .malformedResponse(.unsupportedVersion("2")))
        #expect(answerError("HTTP/1.1 200 OK\r\nBad Header\r\n\r\n") == .malformedResponse(.malformedHeader(line: 2)))
        #expect(answerError("HTTP/1.1 200 OK\rX\r\n\r\n") == .malformedResponse(.bareCarriageReturn))
    }

    @Test("an answer head over 16 KiB is refused; one of exactly 16 KiB is not")
    func headerLimit() {
        let prefix = "HTTP/1.1 200 OK\r\nX-Pad: "
        let fill = ProxyConnect.maxHeaderBytes - prefix.utf8.count - 4
        let exact = prefix + String(repeating: "a", count: fill) + "\r\n\r\n"
        #expect(exact.utf8.count == 16 * 1024)
        #expect(answerError(exact) == nil)
        let over = prefix + String(repeating: "a", count: fill + 1) + "\r\n\r\n"
        #expect(answerError(over) == .headerTooLarge(limit: 16 * 1024))
        // Without any line end, the limit still applies.
        #expect(answerError(String(repeating: "H", count: 20_000)) == .headerTooLarge(limit: 16 * 1024))
    }

    @Test("after an error every call throws it again")
    func errorSticks() {
        var handshake = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        _ = feed(&handshake, [Array("HTTP/1.1 403 Forbidden\r\n\r\n".utf8)])
        guard case .failure(let again) = feed(&handshake, [Self.established]) else {
            Issue.record("a failed handshake accepted a second answer")
            return
        }
        #expect(again == .refused(status: 403, reason: "Forbidden"))
        #expect(throws: ProxyConnectError.refused(status: 403, reason: "Forbidden")) { try handshake.receiveEnd() }
    }

    @Test("the proxy closing early says whether it had started to answer")
    func closed() throws {
        var silent = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        #expect(throws: ProxyConnectError.closedByProxy(answered: false)) { try silent.receiveEnd() }
        var partial = ProxyConnect(target: Self.target, proxy: Self.proxy, userAgent: "ua")
        #expect(try feed(&partial, [Array("HTTP/1.1 200".utf8)]).get() == nil)
        #expect(throws: ProxyConnectError.closedByProxy(answered: true)) { try partial.receiveEnd() }
    }

    @Test("every error has its own description")
    func descriptions() {
        let errors: [ProxyConnectError] = [
            .authenticationRequired(challenge: nil), .credentialsRejected(challenge: nil), .refused(status: 403, reason: "Forbidden"),
            .malformedResponse(.malformedStatusLine), .headerTooLarge(limit: 16384), .closedByProxy(answered: false),
            .closedByProxy(answered: true),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
    }
}
