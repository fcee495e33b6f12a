import Foundation

/// Reads a request's parameters the way Slack does: query string and form or JSON body,
/// HTTP Basic client credentials, Bearer tokens. Tolerates anything (broken escapes,
/// invalid UTF-8, non-string JSON values): a value that cannot be read is absent.
enum RequestParams {
    /// Longest value kept; longer ones are cut (no Slack parameter comes close).
    static let maxValue = 8192

    /// The query's parameters: the transport's decoded fragments when it split them
    /// (`HTTPRequest.queryFragments`), else the raw query string decoded here. The first
    /// of a repeated name wins.
    static func query(_ r: HTTPRequest) -> [String: String] {
        guard let fragments = r.queryFragments else { return urlEncoded(r.query) }
        var out: [String: String] = [:]
        for f in fragments {
            let kv = f.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let k = kv.first, !k.isEmpty, out[String(k)] == nil else { continue }
            out[String(k)] = kv.count > 1 ? String(kv[1].prefix(maxValue)) : ""
        }
        return out
    }

    /// `application/x-www-form-urlencoded` text decoded (`+` is a space); the first of a
    /// repeated name wins.
    static func urlEncoded(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(decode)
            guard let k = kv.first, !k.isEmpty, out[k] == nil else { continue }
            out[k] = kv.count > 1 ? String(kv[1].prefix(maxValue)) : ""
        }
        return out
    }

    /// One percent-encoded component; a broken escape leaves the text as it was.
    static func decode(_ s: Substring) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    /// The body's parameters: form fields, or the string (and number, boolean) members of
    /// a JSON object.
    static func body(_ r: HTTPRequest) -> [String: String] {
        if (r.contentType ?? "").lowercased().contains("json") {
            guard let o = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] else { return [:] }
            var out: [String: String] = [:]
            for (k, v) in o {
                switch v {
                case let s as String: out[k] = String(s.prefix(maxValue))
                case let n as NSNumber: out[k] = n.stringValue
                default: break
                }
            }
            return out
        }
        return urlEncoded(String(decoding: r.body, as: UTF8.self))
    }

    /// Query and body together; the body wins for a name in both.
    static func all(_ r: HTTPRequest) -> [String: String] {
        query(r).merging(body(r)) { _, b in b }
    }

    /// `Authorization: Basic base64(id:secret)`; nil when absent or unreadable.
    static func basic(_ r: HTTPRequest) -> (id: String, secret: String)? {
        guard let a = r.authorization?.trimmingCharacters(in: .whitespaces), a.lowercased().hasPrefix("basic "),
              a.count < 4096,
              let data = Data(base64Encoded: a.dropFirst(6).trimmingCharacters(in: .whitespaces)),
              let text = String(data: data, encoding: .utf8),
              let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The Web API token: `Authorization: Bearer …`, else a `token` parameter.
    static func token(_ r: HTTPRequest, params: [String: String]) -> String? {
        if let b = WebAPI.bearer(r) { return b }
        if let t = params["token"], !t.isEmpty { return t }
        return nil
    }

    /// Strict percent-encoding for a query value: everything but RFC 3986's unreserved
    /// characters is escaped.
    static func encode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// A true flag: `1`, `true`, `yes` (any case).
    static func flag(_ v: String?) -> Bool { ["1", "true", "yes"].contains((v ?? "").lowercased()) }

    /// A scope list (`a,b c`): split on commas and spaces, empties dropped, duplicates
    /// removed, order kept; at most 200 scopes of at most 100 characters.
    static func scopes(_ v: String?) -> [String] {
        var seen = Set<String>()
        var out: [String] = []
        for part in (v ?? "").split(whereSeparator: { $0 == "," || $0 == " " }) {
            let s = String(part.prefix(100))
            if out.count < 200, seen.insert(s).inserted { out.append(s) }
        }
        return out
    }
}
