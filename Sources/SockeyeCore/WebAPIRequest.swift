/// A Slack Web API call over HTTP/1.1: `POST <apiBase>/<method>` with the token as a Bearer
/// header (or, for `oauth.v2.access`, the app's client id and secret as Basic credentials)
/// and form-encoded arguments (`auth.test`, `apps.connections.open` …). The answer is read
/// with `HTTPResponseParser`; its JSON body is the caller's to interpret.
public enum WebAPIRequest {
    /// How a call authenticates.
    public enum Credentials: Sendable, Equatable {
        /// `Authorization: Bearer <token>` (every method but the OAuth ones).
        case bearer(String)
        /// `Authorization: Basic base64(client_id:client_secret)`: the app itself
        /// (`oauth.v2.access`, which Slack prefers to have them in this header).
        case client(id: String, secret: String)

        /// The `Authorization` header's value, control characters stripped.
        var headerValue: String {
            switch self {
            case .bearer(let token): "Bearer \(ProxyConnect.headerSafe(token))"
            case .client(let id, let secret): "Basic \(Base64.encode(Array("\(id):\(secret)".utf8)))"
            }
        }
    }

    /// The request bytes. `proxy` as in `ConnectionsOpenCall.request(apiBase:appToken:userAgent:proxy:)`:
    /// through a proxy a plain `http://` target is in absolute form with the proxy's
    /// credentials; `https://` goes unchanged inside the `CONNECT` tunnel. Control characters
    /// are stripped from the token and the user agent (no header injection); argument names
    /// and values are percent-encoded.
    public static func request(
        method: String, apiBase: EndpointURL, token: String, arguments: [(String, String)] = [], userAgent: String,
        proxy: EndpointURL? = nil
    ) -> [UInt8] {
        request(method: method, apiBase: apiBase, credentials: .bearer(token), arguments: arguments, userAgent: userAgent, proxy: proxy)
    }

    /// The request bytes, authenticated with `credentials`.
    public static func request(
        method: String, apiBase: EndpointURL, credentials: Credentials, arguments: [(String, String)] = [], userAgent: String,
        proxy: EndpointURL? = nil
    ) -> [UInt8] {
        let url = apiBase.appendingPath(method)
        let forwarded = proxy != nil && !url.isSecure
        let body = arguments.map { "\(formEncoded($0.0))=\(formEncoded($0.1))" }.joined(separator: "&")
        var text = "POST \(forwarded ? url.absoluteForm : url.requestTarget) HTTP/1.1\r\n"
        text += "Host: \(url.hostHeader)\r\n"
        text += "Authorization: \(credentials.headerValue)\r\n"
        if forwarded, let proxy, let basic = ProxyConnect.basicCredentials(proxy) {
            text += "Proxy-Authorization: Basic \(basic)\r\n"
        }
        text += "Content-Type: application/x-www-form-urlencoded\r\n"
        text += "Content-Length: \(body.utf8.count)\r\n"
        text += "User-Agent: \(ProxyConnect.headerSafe(userAgent))\r\n"
        text += "Connection: close\r\n\r\n"
        text += body
        return Array(text.utf8)
    }

    /// `application/x-www-form-urlencoded` encoding of one name or value.
    static func formEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 0xF)])
            }
        }
        return out
    }
}
