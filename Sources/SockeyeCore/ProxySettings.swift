/// Which HTTP proxy, if any, to use for a target, by curl's rules.
///
/// Proxies are HTTP proxies spoken to in plain text; a `wss://`/`https://` target goes
/// through them with `CONNECT` (see `ProxyConnect`), so TLS still runs end to end.
///
/// From the environment (`init(environment:)`), as curl reads it:
/// - `https_proxy`, else `HTTPS_PROXY`: for `wss://` and `https://` targets (all of Slack).
/// - `http_proxy` only: for `ws://` and `http://` targets. The uppercase `HTTP_PROXY` is
///   ignored on purpose, as curl does: a CGI-style front end turns a request's `Proxy:`
///   header into `HTTP_PROXY`, so an attacker could redirect traffic ("httpoxy").
/// - `no_proxy`, else `NO_PROXY`: comma-separated exceptions (below).
/// - The lowercase variable wins when both spellings are set; an empty value counts as unset.
/// - A value without a scheme means `http://`. An `https://` proxy (TLS to the proxy) and
///   SOCKS proxies are refused with an error rather than silently ignored. `all_proxy` is not
///   read: it usually names a SOCKS proxy, which this client cannot use.
/// - A proxy URL without a port uses 80, as Go, Python and Node do (curl alone assumes
///   1080); its path is ignored; `user:password@` in it is sent as Basic credentials.
///
/// `NO_PROXY` entries (`proxy(for:)`), matched against the target's host as written (no
/// DNS lookup), case-insensitively, whitespace trimmed, empty entries ignored:
/// - `*` matches every host.
/// - A name matches itself and every host below it: `example.com` (or `.example.com`, or
///   `*.example.com`) matches `example.com` and `api.example.com`, not `badexample.com`.
///   A trailing dot on either side is ignored.
/// - `name:port` (or `[v6]:port`) matches only that port.
/// - An IPv4 or IPv6 literal matches that address when the target host is that address
///   literal; `10.0.0.0/8` or `fd00::/8` match the addresses in that CIDR block. Names
///   never match address entries and addresses never match name entries.
public struct ProxySettings: Sendable, Hashable {
    /// The proxy for `wss://` and `https://` targets.
    public var httpsProxy: EndpointURL?
    /// The proxy for `ws://` and `http://` targets.
    public var httpProxy: EndpointURL?
    /// The raw `NO_PROXY` entries (see the type's documentation for how they match).
    public var noProxy: [String]

    /// Explicit settings. Use `proxyURL(_:)` to parse a proxy setting as the environment does.
    public init(httpsProxy: EndpointURL? = nil, httpProxy: EndpointURL? = nil, noProxy: [String] = []) {
        self.httpsProxy = httpsProxy
        self.httpProxy = httpProxy
        self.noProxy = noProxy
    }

    /// Settings from an environment dictionary (see the type's documentation). Throws when a
    /// proxy variable that is set cannot be used, naming the problem.
    public init(environment: [String: String]) throws(EndpointURLError) {
        func value(_ names: String...) -> String? {
            for name in names {
                if let value = environment[name], !value.allSatisfy(\.isWhitespace) { return value }
            }
            return nil
        }
        self.init(
            httpsProxy: try value("https_proxy", "HTTPS_PROXY").map { (text) throws(EndpointURLError) in try Self.proxyURL(text) },
            httpProxy: try value("http_proxy").map { (text) throws(EndpointURLError) in try Self.proxyURL(text) },
            noProxy: value("no_proxy", "NO_PROXY").map { $0.split(separator: ",").map(String.init) } ?? []
        )
    }

    /// Parses a proxy setting: surrounding whitespace trimmed, `http://` assumed when there is
    /// no scheme; `https://` and any scheme but `http` refused.
    public static func proxyURL(_ text: String) throws(EndpointURLError) -> EndpointURL {
        let trimmed = String(text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
        guard !trimmed.isEmpty else { throw .empty }
        let withScheme: String
        if let range = trimmed.firstRange(of: "://") {
            let scheme = trimmed[..<range.lowerBound].lowercased()
            if scheme == "https" { throw .httpsProxyUnsupported }
            guard scheme == "http" else { throw .unsupportedProxyScheme(String(trimmed[..<range.lowerBound])) }
            withScheme = trimmed
        } else {
            withScheme = "http://" + trimmed
        }
        let url = try EndpointURL(withScheme)
        // A proxy URL's path means nothing; one with "@" is a password cut short by an
        // unencoded "/" (`http://user:12/34@proxy` parses as host `user`, port 12), which
        // would otherwise be used, and shown, as a path.
        if url.path.contains("@") || (url.query?.contains("@") ?? false) { throw .misplacedUserinfo }
        return url
    }

    /// Checks explicit settings as `proxyURL(_:)` checks a variable: only `http://` proxies.
    /// An `https://` one is refused (`httpsProxyUnsupported`): TLS to the proxy itself is not
    /// implemented, so its `Proxy-Authorization` would travel in clear.
    public func validated() throws(EndpointURLError) -> ProxySettings {
        for proxy in [httpsProxy, httpProxy].compactMap({ $0 }) {
            if proxy.scheme == .https { throw .httpsProxyUnsupported }
            guard proxy.scheme == .http else { throw .unsupportedProxyScheme(proxy.scheme.rawValue) }
        }
        return self
    }

    /// The proxy for `target`, or `nil` when none is configured for its scheme or a
    /// `noProxy` entry matches it.
    public func proxy(for target: EndpointURL) -> EndpointURL? {
        let proxy = target.isSecure ? httpsProxy : httpProxy
        guard let proxy else { return nil }
        return bypasses(target) ? nil : proxy
    }

    /// Whether a `noProxy` entry matches `target`.
    public func bypasses(_ target: EndpointURL) -> Bool {
        let host = Self.withoutTrailingDot(Substring(target.host.lowercased()))
        let address = IPLiteral(host)
        for raw in noProxy {
            guard let entry = NoProxyEntry(raw) else { continue }
            if entry.matches(host: host, address: address, port: target.port) { return true }
        }
        return false
    }

    static func withoutTrailingDot(_ text: Substring) -> Substring {
        text.hasSuffix(".") ? text.dropLast() : text
    }
}

/// One parsed `NO_PROXY` entry.
enum NoProxyEntry {
    case everything
    case name(Substring, port: Int?)
    case address(IPLiteral, prefix: Int, port: Int?)

    /// `nil` for an empty (or unusable) entry, which matches nothing.
    init?(_ raw: String) {
        var text = Substring(raw.lowercased())
        text = text.drop(while: \.isWhitespace)
        while text.last?.isWhitespace == true { text = text.dropLast() }
        guard !text.isEmpty else { return nil }
        if text == "*" {
            self = .everything
            return
        }
        var port: Int? = nil
        if text.first == "[" {
            // [v6] or [v6]:port
            guard let close = text.firstIndex(of: "]") else { return nil }
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":", let value = Int(rest.dropFirst()), (1...65535).contains(value) else { return nil }
                port = value
            }
            text = text[text.index(after: text.startIndex)..<close]
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            // name:port or v4:port (a bare IPv6 address has more than one colon)
            guard let value = Int(text[text.index(after: colon)...]), (1...65535).contains(value) else { return nil }
            port = value
            text = text[..<colon]
        }
        // An address, possibly with a CIDR prefix length.
        var addressText = text
        var prefix: Int? = nil
        if let slash = text.firstIndex(of: "/") {
            addressText = text[..<slash]
            guard let bits = Int(text[text.index(after: slash)...]), bits >= 0 else { return nil }
            prefix = bits
        }
        if let address = IPLiteral(addressText) {
            guard (prefix ?? 0) <= address.bitCount else { return nil }
            self = .address(address, prefix: prefix ?? address.bitCount, port: port)
            return
        }
        guard prefix == nil else { return nil }
        if text.hasPrefix("*.") {
            text = text.dropFirst(2)
        } else if text.hasPrefix(".") {
            text = text.dropFirst()
        }
        text = ProxySettings.withoutTrailingDot(text)
        guard !text.isEmpty else { return nil }
        self = .name(text, port: port)
    }

    func matches(host: Substring, address: IPLiteral?, port: Int) -> Bool {
        switch self {
        case .everything:
            return true
        case .name(let name, let entryPort):
            if let entryPort, entryPort != port { return false }
            guard address == nil else { return false }
            if host == name { return true }
            // A suffix match must start at a label boundary.
            guard host.count > name.count, host.hasSuffix(name) else { return false }
            return host[host.index(host.endIndex, offsetBy: -name.count - 1)] == "."
        case .address(let entry, let prefix, let entryPort):
            if let entryPort, entryPort != port { return false }
            guard let address else { return false }
            return address.matches(entry, prefix: prefix)
        }
    }
}
