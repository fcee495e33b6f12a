import Foundation

/// Which `Host` header values the operations listener answers: loopback names, IP address
/// literals and the names the configuration lists, each with or without a port.
///
/// This is the defence against DNS rebinding: a page from another origin that points its
/// own name at this address still sends its own name as `Host`, and is refused. An IP
/// literal is safe to accept: a browser sends one only for a page whose origin is that very
/// address, and a scraper addressing the listener by IP needs no configuration. A missing
/// or malformed `Host` is refused too (every HTTP/1.1 client sends one).
struct HostCheck: Sendable {
    /// Names accepted besides the loopback names and IP literals, lowercased, without port.
    let names: Set<String>

    init(allowed: [String]) {
        names = Set(["localhost", "127.0.0.1", "[::1]"] + allowed.map { $0.lowercased() })
    }

    /// Whether a request with `Host: host` is answered.
    func allows(_ host: String?) -> Bool {
        guard let host, let name = Self.name(of: host) else { return false }
        return names.contains(name) || Self.isIPv4(name) || Self.isBracketedIPv6(name)
    }

    /// The name part of a `Host` value (lowercased, port dropped), or nil when the value is
    /// not a name with an optional port.
    static func name(of host: String) -> String? {
        let value = host.trimmingCharacters(in: [" ", "\t"]).lowercased()
        guard !value.isEmpty, value.utf8.count <= 260 else { return nil }
        let name: Substring
        let rest: Substring
        if value.hasPrefix("[") {
            guard let close = value.firstIndex(of: "]") else { return nil }
            name = value[...close]
            rest = value[value.index(after: close)...]
        } else if let colon = value.firstIndex(of: ":") {
            name = value[..<colon]
            rest = value[colon...]
        } else {
            name = value[...]
            rest = ""
        }
        if !rest.isEmpty {
            let port = rest.dropFirst()
            guard rest.first == ":", !port.isEmpty, port.count <= 5, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        }
        guard !name.isEmpty else { return nil }
        return String(name)
    }

    static func isIPv4(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy { $0.isASCII && $0.isNumber } && Int(part).map { $0 <= 255 } == true
        }
    }

    static func isBracketedIPv6(_ name: String) -> Bool {
        guard name.hasPrefix("["), name.hasSuffix("]"), name.count > 2 else { return false }
        let inner = name.dropFirst().dropLast()
        return inner.contains(":") && inner.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
    }
}
