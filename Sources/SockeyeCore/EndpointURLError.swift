/// Why a URL (an endpoint, an API base or a proxy setting) was refused.
///
/// Each case names one mistake, so that a log line says what to fix in a configuration.
public enum EndpointURLError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The text is empty (or only whitespace, for proxy settings).
    case empty
    /// There is no `scheme://` in front: `slack.com/api` instead of `https://slack.com/api`.
    case missingScheme
    /// A scheme other than ws, wss, http and https; carries the scheme as written.
    case unsupportedScheme(String)
    /// Nothing between `//` (or the `@` of the userinfo) and the port or path.
    case emptyHost
    /// A host with a byte no host name may contain (letters, digits, `-`, `.` and `_` are
    /// allowed), text after an IPv6 literal's `]` other than a port, or an IPv6 address
    /// without brackets; carries the host as written.
    case invalidHost(String)
    /// A port that is not a decimal number in 1…65535; carries the port text as written.
    case badPort(String)
    /// A `[…]` host that is not a valid IPv6 address (zone identifiers are not supported);
    /// carries the text between the brackets.
    case badIPv6(String)
    /// A space, control character or non-ASCII byte at this byte offset of the text:
    /// URLs must be percent-encoded (and host names punycode-encoded).
    case invalidCharacter(offset: Int)
    /// A `%` not followed by two hex digits, or a decoded userinfo that is not UTF-8.
    case badPercentEncoding
    /// An `https://` proxy: TLS to the proxy itself is not supported; use `http://` (the
    /// tunnelled connection is still TLS end to end).
    case httpsProxyUnsupported
    /// A proxy URL whose scheme is neither http nor https (`socks5://` …); carries the scheme.
    case unsupportedProxyScheme(String)
    /// An `@` after the host: a user name or password holds a `/`, `?`, `#` or `@` that must
    /// be percent-encoded (or a proxy URL has a path with `@`). Carries nothing of the text,
    /// which may hold a password.
    case misplacedUserinfo

    public var description: String {
        switch self {
        case .empty: "the URL is empty"
        case .missingScheme: "the URL has no scheme (expected ws://, wss://, http:// or https://)"
        case .unsupportedScheme(let scheme): "unsupported URL scheme \"\(scheme)\" (expected ws, wss, http, https, nats or tls)"
        case .emptyHost: "the URL has no host"
        case .invalidHost(let host):
            "invalid host \"\(host)\"" + (host.contains(":") ? " (an IPv6 address goes in brackets: [::1]:8080)" : "")
        case .badPort(let port): "invalid port \"\(port)\" (expected a number from 1 to 65535)"
        case .badIPv6(let literal): "invalid IPv6 address \"[\(literal)]\""
        case .invalidCharacter(let offset):
            "space, control or non-ASCII character at byte \(offset) of the URL (percent-encode it)"
        case .badPercentEncoding: "invalid percent-encoding in the URL's user name or password"
        case .httpsProxyUnsupported:
            "https:// proxies (TLS to the proxy) are not supported, and their credentials would go to the proxy "
                + "in clear; use an http:// proxy URL (connections through it are still TLS end to end)"
        case .misplacedUserinfo:
            "the URL has an \"@\" after its host: percent-encode \"/\", \"?\", \"#\" and \"@\" in the user name "
                + "and password (%2F, %3F, %23, %40)"
        case .unsupportedProxyScheme(let scheme):
            "unsupported proxy scheme \"\(scheme)\" (only http:// proxies with CONNECT are supported)"
        }
    }
}
