/// `sockeyed healthcheck`'s decisions (sans-IO): which address to ask, the request, and
/// what the answer's status line means. A container's health check has no curl: the
/// daemon's own binary asks its operations listener.
public struct HealthProbe: Sendable, Equatable {
    /// The numeric host to connect to (an IPv4 or IPv6 literal, without brackets).
    public var host: String
    public var port: Int
    /// `/healthz` (the process serves requests) or `/readyz` (every app can take events).
    public var path: String

    /// The default operations address.
    public static let defaultAddress = "127.0.0.1:9464"

    /// The probe for a listener at `address` (as `operations.listen` writes it): a wildcard
    /// address is asked on loopback, `localhost` is 127.0.0.1; nil when `address` is not
    /// `HOST:PORT` with a numeric host or `localhost`.
    public init?(address: String, ready: Bool) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        switch host {
        case "", "0.0.0.0", "localhost": host = "127.0.0.1"
        case "::": host = "::1"
        default:
            guard host.allSatisfy({ $0.isHexDigit || $0 == "." || $0 == ":" }), host.contains(where: { $0 == "." || $0 == ":" })
            else { return nil }
        }
        self.host = host
        self.port = port
        path = ready ? "/readyz" : "/healthz"
    }

    /// The request's bytes: a GET that closes the connection after the answer.
    public var request: [UInt8] {
        let authority = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        return Array("GET \(path) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: sockeyed-healthcheck\r\nConnection: close\r\n\r\n".utf8)
    }

    /// What an answer says so far.
    public enum Verdict: Sendable, Equatable {
        /// The status line is not complete yet: read on.
        case incomplete
        /// 200: healthy (or ready).
        case healthy
        /// Another status, with the status line.
        case unhealthy(String)
        /// Not an HTTP answer.
        case malformed
    }

    /// The longest status line read before giving up on an answer.
    public static let maxStatusLineBytes = 1024

    /// The verdict on the bytes received so far.
    public static func verdict(_ received: [UInt8]) -> Verdict {
        guard let end = received.firstIndex(of: UInt8(ascii: "\n")) else {
            return received.count > maxStatusLineBytes ? .malformed : .incomplete
        }
        let line = String(decoding: received[..<end], as: UTF8.self).trimmingSuffix("\r")
        let parts = line.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]), (100...599).contains(status) else {
            return .malformed
        }
        return status == 200 ? .healthy : .unhealthy(line)
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
