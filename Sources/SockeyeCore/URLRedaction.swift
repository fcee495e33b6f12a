/// What logs, errors, status pages and metrics show of a URL that may carry credentials
/// (`http://user:password@proxy:3128`, `https://host/p?token=…` once `${ENV}` is
/// substituted). Two forms, from one reading of the userinfo:
///
/// - `maskingPassword(_:)` keeps the text and replaces the password by `***`
///   (`http://user:***@proxy:3128`): for an error about the URL the user wrote, where the rest
///   helps to find the mistake. It works on text that does not parse, and on text without a
///   scheme (`user:pw@proxy:3128`).
/// - `url(_:)` shows only `scheme://host[:port]/path`, without userinfo, query and fragment:
///   for status pages and log lines, where a query may hold a token too. `urls(in:)` does the
///   same to every URL in free text (an error message that names one).
///
/// Both keep the same promise: nothing after the userinfo's `:` is ever shown. A password
/// may hold an unencoded `@`, `/`, `?` or `#`, which makes the URL ambiguous; the reading is
/// then the one that hides more (see `userinfo(in:)`).
public enum URLRedaction {
    /// `text` with the password of a URL's userinfo replaced by `***`, whether or not the
    /// text parses. The userinfo starts after `scheme://` (or at the beginning of text without
    /// one); a userinfo without `:` (a user name alone) is kept, as `EndpointURL.description`
    /// keeps it.
    public static func maskingPassword(_ text: String) -> String {
        let rest = text[authorityStart(of: text)...]
        guard let userinfo = userinfo(in: rest), let colon = text[userinfo].firstIndex(of: ":") else { return text }
        return String(text[..<colon]) + ":***" + String(text[userinfo.upperBound...])
    }

    /// `url` without userinfo, query and fragment: `scheme://host[:port]/path`. Text that is
    /// not a URL with a scheme is not shown at all: `(not a URL)`.
    public static func url(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://") else { return "(not a URL)" }
        let scheme = url[..<schemeEnd.lowerBound]
        guard !scheme.isEmpty, scheme.allSatisfy(isSchemeCharacter) else { return "(not a URL)" }
        var rest = url[schemeEnd.upperBound...]
        if let userinfo = userinfo(in: rest) { rest = rest[url.index(after: userinfo.upperBound)...] }
        if let cut = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<cut] }
        return "\(scheme)://\(rest)"
    }

    /// `text` with every URL in it (`scheme://…`, up to a space, quote or bracket) shown as
    /// `url(_:)` shows it; a `://` without a scheme before it becomes `(a URL)`. For free text
    /// such as an error message that may name one.
    public static func urls(in text: String) -> String {
        guard text.contains("://") else { return text }
        let characters = Array(text)
        var out = ""
        var index = 0
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

    // MARK: The one reading of the userinfo

    /// Where the authority starts: after the first `://`, or at the beginning of text without one.
    private static func authorityStart(of text: String) -> String.Index {
        text.firstRange(of: "://")?.upperBound ?? text.startIndex
    }

    /// The userinfo at the start of `rest` (the text after `scheme://`), without its `@`, or
    /// `nil` when there is none.
    ///
    /// - A `:` before the first `@` and before the first `/`, `?` or `#` starts a password,
    ///   which may itself hold unencoded `@`, `/`, `?` or `#`: the userinfo then runs to the
    ///   last `@` of the text. (`http://host:8080/p@x` reads as a password too: showing less of
    ///   an odd URL is the price of never showing a password.)
    /// - Otherwise there is no password, and the userinfo runs to the last `@` before the first
    ///   `/`, `?` or `#`, as RFC 3986 and `EndpointURL` read it; an `@` in a path or query is
    ///   not structure.
    private static func userinfo(in rest: Substring) -> Range<String.Index>? {
        guard let firstAt = rest.firstIndex(of: "@") else { return nil }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        if rest[..<min(firstAt, authorityEnd)].contains(":"), let lastAt = rest.lastIndex(of: "@") {
            return rest.startIndex..<lastAt
        }
        guard let at = rest[..<authorityEnd].lastIndex(of: "@") else { return nil }
        return rest.startIndex..<at
    }

    private static func isSchemeCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || "+-.".contains(c))
    }
}
