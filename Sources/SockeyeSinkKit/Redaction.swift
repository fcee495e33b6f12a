/// What the daemon shows of configured values that may hold secrets once `${ENV}` is
/// substituted: a command's arguments (`--token=…`) and a URL's credentials and query
/// (`https://user:pw@host/p?token=x`). The status page, `status.json`, sink figures, errors
/// and log lines show these forms, never the values themselves.
public enum Redaction {
    /// The program without its arguments: `deploy.sh (+3 arguments)`. A path is cut to its
    /// last component (a directory name can say as much as an argument).
    public static func command(_ arguments: [String]) -> String {
        guard let program = arguments.first else { return "(no program)" }
        let name = program.split(separator: "/").last.map(String.init) ?? program
        let rest = arguments.count - 1
        switch rest {
        case 0: return name
        case 1: return "\(name) (+1 argument)"
        default: return "\(name) (+\(rest) arguments)"
        }
    }

    /// `url` without user information, query and fragment: `scheme://host[:port]/path`.
    /// Text that is not a URL with a scheme is not shown at all.
    public static func url(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "(not a URL)" }
        let scheme = url[..<schemeEnd.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) }) else {
            return "(not a URL)"
        }
        var rest = url[schemeEnd.upperBound...]
        // The query and the fragment go first: an `@` or `/` inside them is not structure.
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        return "\(scheme)://\(authority)\(rest[authorityEnd...])"
    }

    /// `text` with every URL in it (`scheme://…`, up to a space, quote or bracket) shown as
    /// `url(_:)` shows it: for free text such as an error message that may name one.
    public static func urls(in text: String) -> String {
        guard text.contains("://") else { return text }
        let characters = Array(text)
        var out = ""
        var index = 0
        func isSchemeCharacter(_ c: Character) -> Bool { c.isASCII && (c.isLetter || c.isNumber || "+-.".contains(c)) }
        func endsURL(_ c: Character) -> Bool { c.isWhitespace || "\"'<>()[]{}`|\\^".contains(c) }
        while index < characters.count {
            guard index + 2 < characters.count, characters[index] == ":", characters[index + 1] == "/", characters[index + 2] == "/" else {
                out.append(characters[index])
                index += 1
                continue
            }
            // Take the scheme back out of what was copied.
            var schemeStart = index
            while schemeStart > 0, isSchemeCharacter(characters[schemeStart - 1]) { schemeStart -= 1 }
            let schemeLength = index - schemeStart
            out.removeLast(schemeLength)
            var end = index + 3
            while end < characters.count, !endsURL(characters[end]) { end += 1 }
            // Punctuation that ends a sentence or a clause is the message's, not the URL's.
            while end > index + 3, ":,.;!".contains(characters[end - 1]) { end -= 1 }
            let found = String(characters[schemeStart..<end])
            out += schemeLength == 0 ? "(a URL)" : url(found)
            index = end
        }
        return out
    }
}
