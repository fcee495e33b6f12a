/// The `CONNECT` handshake with an HTTP proxy (RFC 9110 §9.3.6), sans-IO.
///
/// ```swift
/// var handshake = ProxyConnect(target: url, proxy: proxyURL, userAgent: "sockeye/1.0")
/// send(handshake.request)
/// // on every read until it returns non-nil:
/// if let used = try handshake.receive(bytes) {
///     // bytes[used...] already belong to the tunnel (e.g. the TLS ServerHello)
/// }
/// ```
///
/// Only Basic proxy authentication is offered (credentials from the proxy URL's userinfo);
/// a proxy that asks for another scheme (NTLM, Negotiate, Digest) fails with the scheme it
/// asked for in the error, so the log says why. Interim 1xx answers are skipped. A 2xx
/// answer's `Content-Length`/`Transfer-Encoding` are ignored, as RFC 9110 requires: after its
/// head, everything is tunnel data.
public struct ProxyConnect: Sendable {
    /// The largest answer head accepted from the proxy.
    public static let maxHeaderBytes = 16 * 1024

    /// The bytes to send to the proxy.
    public let request: [UInt8]
    /// Whether `request` carries `Proxy-Authorization` (the proxy URL had a user name).
    public let sentCredentials: Bool

    private var head = HTTPHeadReader(limit: ProxyConnect.maxHeaderBytes, readsStatusLine: true)
    private var outcome: Result<Void, ProxyConnectError>? = nil

    /// The handshake for a tunnel to `target` (its host and port; the scheme decides nothing
    /// here) through `proxy`. Header values are stripped of control characters, so no
    /// configured value can inject a header.
    ///
    /// ```
    /// CONNECT slack.com:443 HTTP/1.1
    /// Host: slack.com:443
    /// Proxy-Authorization: Basic dXNlcjpwYXNz      (only with credentials)
    /// User-Agent: sockeye/1.0
    /// ```
    public init(target: EndpointURL, proxy: EndpointURL, userAgent: String) {
        var text = "CONNECT \(target.authority) HTTP/1.1\r\nHost: \(target.authority)\r\n"
        let basic = ProxyConnect.basicCredentials(proxy)
        if let basic { text += "Proxy-Authorization: Basic \(basic)\r\n" }
        text += "User-Agent: \(ProxyConnect.headerSafe(userAgent))\r\n\r\n"
        request = Array(text.utf8)
        sentCredentials = basic != nil
    }

    /// Feeds the proxy's answer. Returns `nil` while its head is incomplete; once a 2xx head
    /// is complete, returns how many of THESE bytes belonged to it (the rest is tunnel data).
    /// After success, every call returns 0 (all bytes are tunnel data); after an error,
    /// every call throws it again. A body after a non-2xx status is ignored.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) throws(ProxyConnectError) -> Int? {
        switch outcome {
        case .success: return 0
        case .failure(let error): throw error
        case nil: break
        }
        var start = 0
        while true {
            let end: Int
            do throws(HTTPParseError) {
                guard let complete = try head.consume(bytes, from: start) else { return nil }
                end = complete
            } catch {
                throw fail(error == .headerTooLarge(limit: Self.maxHeaderBytes) ? .headerTooLarge(limit: Self.maxHeaderBytes) : .malformedResponse(error))
            }
            let status = head.status
            if status >= 100 && status < 200 && status != 101 {
                head.reset()
                start = end
                continue
            }
            if status >= 200 && status < 300 {
                outcome = .success(())
                return end
            }
            if status == 407 {
                let challenge = head.headers.first { $0.hasName("Proxy-Authenticate") }?.value
                throw fail(sentCredentials ? .credentialsRejected(challenge: challenge) : .authenticationRequired(challenge: challenge))
            }
            throw fail(.refused(status: status, reason: head.reason))
        }
    }

    /// The proxy closed the connection; always throws: `.closedByProxy` before an answer (or
    /// the error already reported). After success there is nothing to do.
    public mutating func receiveEnd() throws(ProxyConnectError) {
        switch outcome {
        case .success: return
        case .failure(let error): throw error
        case nil: throw fail(.closedByProxy(answered: head.used > 0))
        }
    }

    private mutating func fail(_ error: ProxyConnectError) -> ProxyConnectError {
        outcome = .failure(error)
        return error
    }

    /// The Basic credentials (base64 of `user:password`, RFC 7617) of a proxy URL, or `nil`
    /// when it has no user name. A user name without password sends an empty password.
    static func basicCredentials(_ proxy: EndpointURL) -> String? {
        guard let user = proxy.user, !(user.isEmpty && proxy.password == nil) else { return nil }
        return Base64.encode(Array(user.utf8) + [UInt8(ascii: ":")] + Array((proxy.password ?? "").utf8))
    }

    /// `text` without control characters (CR and LF above all).
    static func headerSafe(_ text: String) -> String {
        String(decoding: text.utf8.filter { $0 >= 0x20 && $0 != 0x7F }, as: UTF8.self)
    }
}

/// Why a proxy `CONNECT` failed.
public enum ProxyConnectError: Error, Sendable, Hashable, CustomStringConvertible {
    /// 407 and no credentials were sent: the proxy URL needs `user:password@`. Carries the
    /// proxy's `Proxy-Authenticate` challenge (which names the scheme it wants), if any.
    case authenticationRequired(challenge: String?)
    /// 407 although credentials were sent: the proxy rejected them (or wants a scheme other
    /// than Basic; see the challenge).
    case credentialsRejected(challenge: String?)
    /// Any other non-2xx status: the proxy refused the tunnel (403 policy, 502 upstream
    /// unreachable …).
    case refused(status: Int, reason: String)
    /// The answer is not an HTTP/1.x response head.
    case malformedResponse(HTTPParseError)
    /// The answer's head exceeds this many bytes.
    case headerTooLarge(limit: Int)
    /// The proxy closed the connection before (`answered: false`) or while answering.
    case closedByProxy(answered: Bool)

    public var description: String {
        switch self {
        case .authenticationRequired(let challenge):
            "the proxy requires authentication (407) and no credentials were configured; put user:password@ in the proxy URL"
                + Self.challengeNote(challenge)
        case .credentialsRejected(let challenge):
            "the proxy rejected the configured credentials (407)" + Self.challengeNote(challenge)
        case .refused(let status, let reason):
            "the proxy refused the tunnel: \(status)\(reason.isEmpty ? "" : " \(reason)")"
        case .malformedResponse(let error): "malformed answer from the proxy: \(error)"
        case .headerTooLarge(let limit): "the proxy's answer head is larger than \(limit) bytes"
        case .closedByProxy(let answered):
            answered ? "the proxy closed the connection in the middle of its answer" : "the proxy closed the connection without answering"
        }
    }

    private static func challengeNote(_ challenge: String?) -> String {
        guard let challenge else { return "" }
        let isBasic = challenge.utf8.prefix(5).map(HTTPBytes.lower).elementsEqual("basic".utf8)
        return "; it asks for \"\(challenge)\"" + (isBasic ? "" : " (only Basic is supported)")
    }
}
