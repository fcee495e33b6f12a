/// `apps.connections.open` (docs/protocol.md, Opening a connection) over HTTP/1.1: the request bytes, and the
/// mapping of the answer to `ConnectionsOpenResult`.
///
/// ```swift
/// let bytes = ConnectionsOpenCall.request(apiBase: base, appToken: token, userAgent: ua)
/// // … send, read with HTTPResponseParser …
/// let result = ConnectionsOpenCall.result(of: response)
/// ```
public enum ConnectionsOpenCall {
    /// The Web API method name.
    public static let method = "apps.connections.open"

    /// Slack's API base, `https://slack.com/api/`.
    public static let slackAPIBase: EndpointURL = {
        do throws(EndpointURLError) {
            return try EndpointURL("https://slack.com/api/")
        } catch {
            preconditionFailure("the built-in API base does not parse: \(error)")
        }
    }()

    /// The method's URL below `apiBase`.
    public static func url(apiBase: EndpointURL) -> EndpointURL { apiBase.appendingPath(method) }

    /// `POST <apiBase>/apps.connections.open` with `Authorization: Bearer <appToken>` (the
    /// token must be in the header: as a form field Slack now answers `invalid_auth`),
    /// `Content-Type: application/x-www-form-urlencoded`, `Content-Length: 0`, `Host`,
    /// `User-Agent` and `Connection: close` (one request per connection: the call is rare).
    /// Control characters are stripped from the token and user agent, so neither can inject
    /// a header.
    public static func request(apiBase: EndpointURL, appToken: String, userAgent: String) -> [UInt8] {
        request(apiBase: apiBase, appToken: appToken, userAgent: userAgent, proxy: nil)
    }

    /// The same request for a connection that goes through an HTTP proxy. With `viaProxy` and
    /// a plain `http://` API base (the simulator), the request-target is in absolute form, as
    /// a proxy forwarding plain HTTP expects; for `https://` the request goes inside the
    /// `CONNECT` tunnel and is the same as without a proxy.
    public static func request(apiBase: EndpointURL, appToken: String, userAgent: String, viaProxy: Bool) -> [UInt8] {
        build(apiBase: apiBase, appToken: appToken, userAgent: userAgent, viaProxy: viaProxy, proxyCredentials: nil)
    }

    /// The request through `proxy` (or direct when `nil`): for a plain `http://` API base the
    /// request-target is in absolute form and the proxy's credentials, if its URL has any,
    /// go in `Proxy-Authorization`; an `https://` request is unchanged (it travels inside a
    /// `CONNECT` tunnel, see `ProxyConnect`).
    public static func request(apiBase: EndpointURL, appToken: String, userAgent: String, proxy: EndpointURL?) -> [UInt8] {
        build(apiBase: apiBase, appToken: appToken, userAgent: userAgent, viaProxy: proxy != nil, proxyCredentials: proxy)
    }

    private static func build(
        apiBase: EndpointURL, appToken: String, userAgent: String, viaProxy: Bool, proxyCredentials: EndpointURL?
    ) -> [UInt8] {
        let url = url(apiBase: apiBase)
        let forwarded = viaProxy && !url.isSecure
        var text = "POST \(forwarded ? url.absoluteForm : url.requestTarget) HTTP/1.1\r\n"
        text += "Host: \(url.hostHeader)\r\n"
        text += "Authorization: Bearer \(ProxyConnect.headerSafe(appToken))\r\n"
        if forwarded, let basic = proxyCredentials.flatMap(ProxyConnect.basicCredentials) {
            text += "Proxy-Authorization: Basic \(basic)\r\n"
        }
        text += "Content-Type: application/x-www-form-urlencoded\r\n"
        text += "Content-Length: 0\r\n"
        text += "User-Agent: \(ProxyConnect.headerSafe(userAgent))\r\n"
        text += "Connection: close\r\n\r\n"
        return Array(text.utf8)
    }

    /// Maps an answer to a result:
    /// - 2xx with `{"ok":true,"url":"wss://…"}` → `.url` (JSON escapes such as `\/` decoded;
    ///   the URL must parse as `ws://` or `wss://`);
    /// - `{"ok":false,"error":code}` with any status (200, or 429 `ratelimited`) →
    ///   `.apiError(code, retryAfter:)`;
    /// - any other status without such a body (5xx HTML pages, 404, 429 without JSON) →
    ///   `.httpStatus(status, retryAfter:)`;
    /// - a 2xx whose body is not the API's JSON object, lacks `ok`, says `ok:true` without a
    ///   usable `url`, or `ok:false` without an error code → `.transportFailure` with a
    ///   message saying what came back. A 200 that is not Slack's answer means something in
    ///   between answered (a captive portal, a wrong API base, a proxy's page): `.httpStatus(200)`
    ///   would read as success in a log, and the failure stays retryable.
    /// Never traps, whatever the bytes.
    public static func result(of response: HTTPResponse) -> ConnectionsOpenResult {
        result(of: response, apiBase: nil)
    }

    /// The same, for a call made to `apiBase`: when that is `https://`, a `ws://` URL is a
    /// downgrade (the events and acks would travel in clear after a call made over TLS) and
    /// is refused as a `.transportFailure` saying so; the pool asks for another URL.
    public static func result(of response: HTTPResponse, apiBase: EndpointURL?) -> ConnectionsOpenResult {
        let success = response.status >= 200 && response.status < 300
        let scanned: Result<(ok: Bool?, url: String?, error: String?), ScanError> = response.body.withUnsafeBytes { buffer in
            do throws(ScanError) {
                let answer = try scanAnswer(buffer)
                return .success((answer.ok, JSONStringDecoder.string(answer.url, in: buffer), JSONStringDecoder.string(answer.error, in: buffer)))
            } catch {
                return .failure(error)
            }
        }
        let answer: (ok: Bool?, url: String?, error: String?)
        switch scanned {
        case .success(let value): answer = value
        case .failure(let error):
            guard success else { return .httpStatus(response.status, retryAfter: response.retryAfter) }
            return .transportFailure("\(method) answered HTTP \(response.status) with a body that is not a JSON object (\(error)): \(preview(response.body))")
        }
        switch answer.ok {
        case false?:
            if let code = answer.error, !code.isEmpty { return .apiError(code, retryAfter: response.retryAfter) }
            guard success else { return .httpStatus(response.status, retryAfter: response.retryAfter) }
            return .transportFailure("\(method) answered \"ok\":false without an error code: \(preview(response.body))")
        case true?:
            guard success else { return .httpStatus(response.status, retryAfter: response.retryAfter) }
            guard let url = answer.url else {
                return .transportFailure("\(method) answered \"ok\":true without a \"url\" string")
            }
            do throws(EndpointURLError) {
                let parsed = try EndpointURL(url)
                guard parsed.scheme == .wss || parsed.scheme == .ws else {
                    return .transportFailure("\(method) answered a url that is not ws:// or wss://: \(parsed)")
                }
                if let apiBase, apiBase.isSecure, !parsed.isSecure {
                    return .transportFailure(
                        "\(method) answered a ws:// url for an https:// API base, refused (a downgrade to plain text): \(parsed)")
                }
            } catch {
                return .transportFailure("\(method) answered an unusable url (\(error))")
            }
            return .url(url)
        case nil:
            guard success else { return .httpStatus(response.status, retryAfter: response.retryAfter) }
            return .transportFailure("\(method) answered HTTP \(response.status) with JSON that has no boolean \"ok\": \(preview(response.body))")
        }
    }

    /// The fields of the answer object, as views into the body.
    struct Answer {
        var ok: Bool? = nil
        var url = ByteView.absent
        var error = ByteView.absent
    }

    /// Validates `buffer` as one strict JSON object and picks `ok`, `url` and `error` (the
    /// last occurrence wins; a value of the wrong type counts as absent).
    static func scanAnswer(_ buffer: UnsafeRawBufferPointer) throws(ScanError) -> Answer {
        var cursor = try JSONCursor(frame: buffer, options: ScanOptions(maxFrameSize: Int(UInt32.max), maxDepth: 64))
        _ = try cursor.rootObjectOffset()
        var answer = Answer()
        try cursor.scanMembers(depth: 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            let field = KeyMatching.withName(key, base: cursor.base) { name -> Int in
                KeyMatching.equals(name, "ok") ? 1 : KeyMatching.equals(name, "url") ? 2 : KeyMatching.equals(name, "error") ? 3 : 0
            }
            cursor.skipWhitespace()
            let byte = try cursor.peek()
            switch field {
            case 1:
                if byte == 0x74 || byte == 0x66 {
                    answer.ok = try cursor.scanLiteral()
                } else {
                    try cursor.skipValue(depth: 1)
                    answer.ok = nil
                }
            case 2, 3:
                var view = ByteView.absent
                if byte == 0x22 { view = try cursor.scanString() } else { try cursor.skipValue(depth: 1) }
                if field == 2 { answer.url = view } else { answer.error = view }
            default:
                try cursor.skipValue(depth: 1)
            }
        }
        try cursor.expectEnd()
        return answer
    }

    /// The start of a body for a log line: at most 80 bytes, controls and non-ASCII as `.`.
    static func preview(_ body: [UInt8]) -> String {
        let shown = body.prefix(80).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: ".") }
        return "\"" + String(decoding: shown, as: UTF8.self) + (body.count > 80 ? "…\"" : "\"") + " (\(body.count) bytes)"
    }
}
