/// The HTML of the install flow's pages: one self-contained document (no script, no external
/// style or font), every text from outside escaped.
enum InstallPages {
    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1c1d}
        h1{font-size:1.5rem}
        .button{display:inline-block;padding:.7rem 1.2rem;border-radius:.3rem;background:#4a154b;color:#fff;text-decoration:none;font-weight:600}
        .small{color:#616061;font-size:.9rem}
        </style></head>
        <body>
        \(body)
        </body></html>

        """
    }

    /// `text` with `&`, `<`, `>`, `"` and `'` escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// An error code from the query as a page may show it: letters, digits and `_`, at most
    /// 64 of them.
    static func shortCode(_ text: String) -> String {
        let kept = text.prefix(64).filter { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
        return kept.isEmpty ? "unknown" : String(kept)
    }
}
