import SockeyeSinkKit
import Yams

/// The `operations:` and `public:` sections: each listener's address and limits
/// (`ListenerLimits` lists the keys, their defaults and ranges).
extension NodeReader {
    /// The keys every listener section takes besides `listen`.
    static let listenerLimitKeys = ["max_connections", "head_timeout", "body_timeout", "min_body_rate",
                                    "max_requests_per_connection", "idle_timeout"]

    /// `operations:` — `listen` (or `off`), `allowed_hosts` and the limits.
    func operationsSection(_ node: Node, listen: inout String?, listeners: inout ListenerSettings) throws(ConfigError) {
        for (key, value) in try members(node, "operations", allowed: ["listen", "allowed_hosts"] + Self.listenerLimitKeys) {
            let path = "operations.\(key)"
            switch key {
            case "listen":
                listen = try listenAddress(value, path)
            case "allowed_hosts":
                var names: [String] = []
                for (index, name) in try strings(value, path).enumerated() { names.append(try hostName(name, value, "\(path)[\(index)]")) }
                listeners.allowedHosts = names
            default:
                try listenerLimit(key, value, path, into: &listeners.operations)
            }
        }
    }

    /// `public:` — `listen` (required) and the limits.
    func publicSection(_ node: Node, listeners: inout ListenerSettings) throws(ConfigError) {
        var sawListen = false
        for (key, value) in try members(node, "public", allowed: ["listen"] + Self.listenerLimitKeys) {
            let path = "public.\(key)"
            if key == "listen" {
                listeners.publicAddress = try listenAddress(value, path)
                sawListen = true
            } else {
                try listenerLimit(key, value, path, into: &listeners.publicLimits)
            }
        }
        guard sawListen else { throw fail(node, "public.listen", "missing: where the public listener binds, e.g. 0.0.0.0:3000 (or off)") }
    }

    /// `host:port` (port 0…65535; `[v6]:port`), or nil for `off`.
    func listenAddress(_ node: Node, _ key: String) throws(ConfigError) -> String? {
        let text = try string(node, key)
        if text == "off" { return nil }
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port),
              !text[..<colon].contains(" ")
        else { throw fail(node, key, "expected host:port such as 127.0.0.1:9464, or off; got \"\(text)\"") }
        return text
    }

    /// A `Host` name without port, lowercased.
    func hostName(_ text: String, _ node: Node, _ key: String) throws(ConfigError) -> String {
        let name = text.lowercased()
        guard !name.isEmpty, name.count <= 253, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.[]:".contains($0)) }),
              !name.hasSuffix(":")
        else { throw fail(node, key, "expected a host name such as sockeyed.internal (no scheme, no path), got \"\(text)\"") }
        // The Host check compares names without the request's port, so an entry with a port
        // (or an IPv6 address without its brackets, as a Host header never writes one)
        // would never match: refused here rather than left to refuse every request.
        guard !name.contains(":") || (name.hasPrefix("[") && name.hasSuffix("]")) else {
            throw fail(node, key, "expected a host name without a port (the check ignores ports; an IPv6 address goes in brackets, [::1]), got \"\(text)\"")
        }
        return name
    }

    /// One limit key of a listener section, range-checked.
    func listenerLimit(_ key: String, _ node: Node, _ path: String, into limits: inout ListenerLimits) throws(ConfigError) {
        func seconds(_ range: ClosedRange<Double>) throws(ConfigError) -> Double {
            let value = try duration(node, path)
            guard value.isFinite, range.contains(value) else {
                throw fail(node, path, "expected a duration from \(Self.describe(range.lowerBound)) to \(Self.describe(range.upperBound))")
            }
            return value
        }
        switch key {
        case "max_connections":
            limits.maxConnections = try int(node, path, range: ListenerLimits.maxConnectionsRange)
        case "head_timeout":
            limits.headTimeoutSeconds = try seconds(ListenerLimits.headTimeoutRange)
        case "body_timeout":
            limits.bodyTimeoutSeconds = try seconds(ListenerLimits.bodyTimeoutRange)
        case "idle_timeout":
            limits.idleTimeoutSeconds = try seconds(ListenerLimits.idleTimeoutRange)
        case "min_body_rate":
            let bytes = try byteCount(node, path)
            let range = ListenerLimits.minBodyRateRange
            guard bytes >= Int64(range.lowerBound), bytes <= Int64(range.upperBound) else {
                throw fail(node, path, "expected bytes per second from 1B to 1GiB, e.g. 16KiB")
            }
            limits.minBodyBytesPerSecond = Int(bytes)
        default:
            limits.maxRequestsPerConnection = try int(node, path, range: ListenerLimits.maxRequestsRange)
        }
    }

    static func describe(_ seconds: Double) -> String {
        seconds < 1 ? "\(Int((seconds * 1000).rounded()))ms" : "\(Int(seconds))s"
    }
}
