/// A parsed absolute URL of the schemes Sockeye uses: ws, wss, http, https, and NATS's nats
/// and tls (the cluster's servers).
///
/// Parsing is strict where a mistake would otherwise surface late and obscurely (in DNS, in a
/// proxy's error page, or as a request line the server refuses): every problem has its own
/// `EndpointURLError`. It follows RFC 3986's generic syntax for what Sockeye needs:
///
/// ```swift
/// let url = try EndpointURL("wss://wss-primary.slack.com/link/?ticket=abc#x")
/// url.host            // "wss-primary.slack.com"
/// url.port            // 443 (the default for wss)
/// url.requestTarget   // "/link/?ticket=abc" (the fragment never goes on the wire)
/// ```
///
/// - The host is lowercased; an IPv6 host is stored without its brackets (`hostHeader` and
///   `authority` put them back). Host names must be ASCII (punycode for IDNs) made of letters,
///   digits, `-`, `.` and `_`, without empty labels (one trailing dot is allowed); they are not
///   resolved or checked further against DNS rules here.
/// - The path and query stay percent-encoded, exactly as given: they go on the wire as is.
/// - The userinfo (`user:password@`, used by proxy URLs) is percent-decoded.
/// - Spaces, control characters and non-ASCII bytes are refused anywhere: they could never
///   be sent in a request line.
public struct EndpointURL: Sendable, Hashable, CustomStringConvertible {
    /// The schemes Sockeye speaks.
    public enum Scheme: String, Sendable {
        case ws, wss, http, https
        /// A NATS server, plain or over TLS.
        case nats, tls

        /// 4222 for NATS, 443 for the other TLS schemes, 80 for the others.
        public var defaultPort: Int {
            switch self {
            case .nats, .tls: 4222
            case .wss, .https: 443
            case .ws, .http: 80
            }
        }
        /// Whether the scheme runs over TLS.
        public var isSecure: Bool { self == .wss || self == .https || self == .tls }
        /// Whether it is http or https.
        public var isHTTP: Bool { self == .http || self == .https }
    }

    /// The scheme, lowercased.
    public var scheme: Scheme
    /// The host, lowercased; an IPv6 address without brackets.
    public var host: String
    /// The explicit port, or the scheme's default (80/443).
    public var port: Int
    /// The percent-decoded user name of the userinfo, if any (for proxies).
    public var user: String?
    /// The percent-decoded password of the userinfo, if any (for proxies). Never printed by
    /// `description`.
    public var password: String?
    /// The path as written (percent-encoded); empty when the URL has none.
    public var path: String
    /// The query after `?`, as written, or `nil` when there is no `?`.
    public var query: String?

    /// Whether the scheme runs over TLS (wss, https).
    public var isSecure: Bool { scheme.isSecure }

    /// The host as it appears in a URL: IPv6 addresses in brackets.
    public var hostLiteral: String { host.contains(":") ? "[\(host)]" : host }

    /// The `Host` header value: `host`, or `host:port` when the port is not the scheme's
    /// default; `[::1]:8080` for IPv6.
    public var hostHeader: String { port == scheme.defaultPort ? hostLiteral : "\(hostLiteral):\(port)" }

    /// `host:port` with the port always present (the request-target of a `CONNECT`).
    public var authority: String { "\(hostLiteral):\(port)" }

    /// The origin-form request-target: path (or `/`), then `?query` if there is one. The
    /// fragment is never part of it.
    public var requestTarget: String {
        let base = path.isEmpty ? "/" : path
        guard let query else { return base }
        return base + "?" + query
    }

    /// The absolute-form request-target (`http://host:port/path?query`, no userinfo), which
    /// a request through an HTTP proxy carries for a plain-http origin.
    public var absoluteForm: String { "\(scheme.rawValue)://\(hostHeader)\(requestTarget)" }

    /// The URL without its password (shown as `***`) and without a fragment: safe for logs.
    /// (`URLRedaction` does the same for text that does not parse.)
    public var description: String {
        var userinfo = ""
        if let user {
            userinfo = Self.percentEncoded(user, keeping: Self.userinfoSafe) + (password == nil ? "" : ":***") + "@"
        }
        return "\(scheme.rawValue)://\(userinfo)\(hostHeader)\(requestTarget)"
    }

    /// Parses `text` (see the type's documentation for the rules).
    public init(_ text: String) throws(EndpointURLError) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { throw .empty }
        if let bad = bytes.firstIndex(where: { $0 <= 0x20 || $0 >= 0x7F }) { throw .invalidCharacter(offset: bad) }

        // scheme "://": the scheme must be the first thing, made of scheme characters.
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon > 0,
            bytes[colon...].starts(with: Array("://".utf8)),
            Self.isAlpha(bytes[0]),
            bytes[..<colon].allSatisfy({ Self.isAlpha($0) || Self.isDigit($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else { throw .missingScheme }
        let schemeText = String(decoding: bytes[..<colon], as: UTF8.self)
        guard let scheme = Scheme(rawValue: schemeText.lowercased()) else { throw .unsupportedScheme(schemeText) }
        self.scheme = scheme

        // authority: up to the first "/", "?" or "#".
        let authorityStart = colon + 3
        let authorityEnd = bytes[authorityStart...].firstIndex(where: { $0 == 0x2F || $0 == 0x3F || $0 == 0x23 }) ?? bytes.count
        var hostStart = authorityStart
        user = nil
        password = nil
        if let at = bytes[authorityStart..<authorityEnd].lastIndex(of: UInt8(ascii: "@")) {
            let userinfo = bytes[authorityStart..<at]
            if let separator = userinfo.firstIndex(of: UInt8(ascii: ":")) {
                user = try Self.percentDecoded(userinfo[..<separator])
                password = try Self.percentDecoded(userinfo[(separator + 1)...])
            } else {
                user = try Self.percentDecoded(userinfo)
            }
            hostStart = at + 1
        }
        do throws(EndpointURLError) {
            let (host, portText) = try Self.splitHostPort(bytes[hostStart..<authorityEnd])
            self.host = host
            if let portText {
                port = try Self.parsePort(portText) ?? scheme.defaultPort
            } else {
                port = scheme.defaultPort
            }
        } catch {
            // An "@" after the authority's end: a password with an unencoded "/", "?" or "#"
            // cut the authority short, and the host or port in the error would be part of
            // that password. Say what to fix without quoting any of it.
            if bytes[authorityEnd...].contains(UInt8(ascii: "@")) { throw .misplacedUserinfo }
            throw error
        }

        // path, then "?" query, then "#" fragment (dropped).
        let fragmentStart = bytes[authorityEnd...].firstIndex(of: UInt8(ascii: "#")) ?? bytes.count
        let beforeFragment = bytes[authorityEnd..<fragmentStart]
        if let questionMark = beforeFragment.firstIndex(of: UInt8(ascii: "?")) {
            path = String(decoding: beforeFragment[..<questionMark], as: UTF8.self)
            query = String(decoding: beforeFragment[(questionMark + 1)...], as: UTF8.self)
        } else {
            path = String(decoding: beforeFragment, as: UTF8.self)
            query = nil
        }
    }

    /// A URL for an API method below this one's path, for API base URLs:
    /// `https://slack.com/api/` (or `…/api`) + `apps.connections.open` gives
    /// `https://slack.com/api/apps.connections.open`. Leading slashes of `method` are
    /// dropped, the base's query is dropped, and bytes that cannot stand in a path (spaces,
    /// controls, non-ASCII, `?`, `#`, `%`) are percent-encoded.
    public func appendingPath(_ method: String) -> EndpointURL {
        var url = self
        var base = path.isEmpty ? "/" : path
        if !base.hasSuffix("/") { base += "/" }
        let trimmed = method.drop { $0 == "/" }
        url.path = base + Self.percentEncoded(String(trimmed), keeping: Self.pathSafe)
        url.query = nil
        return url
    }

    // MARK: Parsing helpers

    private static func isAlpha(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }

    /// Splits `host[:port]` or `[v6][:port]`; validates and lowercases the host.
    private static func splitHostPort(_ text: ArraySlice<UInt8>) throws(EndpointURLError) -> (String, ArraySlice<UInt8>?) {
        guard let first = text.first else { throw .emptyHost }
        if first == UInt8(ascii: "[") {
            guard let close = text.firstIndex(of: UInt8(ascii: "]")) else {
                throw .badIPv6(String(decoding: text.dropFirst(), as: UTF8.self))
            }
            let literal = text[(text.startIndex + 1)..<close]
            guard IPLiteral.parseIPv6(literal) != nil else { throw .badIPv6(String(decoding: literal, as: UTF8.self)) }
            let rest = text[(close + 1)...]
            guard rest.isEmpty || rest.first == UInt8(ascii: ":") else {
                throw .invalidHost(String(decoding: text, as: UTF8.self))
            }
            return (String(decoding: literal, as: UTF8.self).lowercased(), rest.isEmpty ? nil : rest.dropFirst())
        }
        // Two colons without brackets: an IPv6 address written bare, which cannot carry a port.
        guard text.count(where: { $0 == UInt8(ascii: ":") }) <= 1 else { throw .invalidHost(String(decoding: text, as: UTF8.self)) }
        var hostBytes = text
        var portText: ArraySlice<UInt8>? = nil
        if let colon = text.lastIndex(of: UInt8(ascii: ":")) {
            hostBytes = text[..<colon]
            portText = text[(colon + 1)...]
        }
        guard !hostBytes.isEmpty else { throw .emptyHost }
        let valid = hostBytes.allSatisfy { isAlpha($0) || isDigit($0) || $0 == 0x2D || $0 == 0x2E || $0 == 0x5F }
        // Empty labels (".example", "a..b") name nothing; one trailing dot (an FQDN) is fine.
        let dot = UInt8(ascii: ".")
        let emptyLabel = hostBytes.first == dot || zip(hostBytes, hostBytes.dropFirst()).contains { $0 == dot && $1 == dot }
        guard valid, !emptyLabel else { throw .invalidHost(String(decoding: hostBytes, as: UTF8.self)) }
        return (String(decoding: hostBytes, as: UTF8.self).lowercased(), portText)
    }

    /// 1…65535 in decimal; `nil` for an empty port (`host:`), which RFC 3986 reads as the
    /// scheme's default.
    private static func parsePort(_ text: ArraySlice<UInt8>) throws(EndpointURLError) -> Int? {
        guard !text.isEmpty else { return nil }
        var value = 0
        for byte in text {
            guard isDigit(byte), value <= 65535 else { throw .badPort(String(decoding: text, as: UTF8.self)) }
            value = value * 10 + Int(byte - 0x30)
        }
        guard value >= 1 && value <= 65535 else { throw .badPort(String(decoding: text, as: UTF8.self)) }
        return value
    }

    private static func percentDecoded(_ text: ArraySlice<UInt8>) throws(EndpointURLError) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            let byte = text[i]
            if byte == UInt8(ascii: "%") {
                guard i + 2 < text.endIndex,
                    let high = HexDigit.value(text[i + 1]), let low = HexDigit.value(text[i + 2])
                else { throw .badPercentEncoding }
                output.append(UInt8(high << 4 | low))
                i += 3
            } else {
                output.append(byte)
                i += 1
            }
        }
        guard let string = String(validating: output, as: UTF8.self) else { throw .badPercentEncoding }
        return string
    }

    /// Unreserved characters and sub-delimiters: kept as is in a userinfo.
    private static let userinfoSafe: Set<UInt8> = Set(Array("-._~!$&'()*+,;=".utf8))
    /// Those plus `:`, `@` and `/`: kept as is in a path.
    private static let pathSafe: Set<UInt8> = userinfoSafe.union(Array(":@/".utf8))

    private static func percentEncoded(_ text: String, keeping safe: Set<UInt8>) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var output: [UInt8] = []
        for byte in text.utf8 {
            if isAlpha(byte) || isDigit(byte) || safe.contains(byte) {
                output.append(byte)
            } else {
                output += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
