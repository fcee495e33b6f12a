/// Text made safe for HTML element content and double-quoted attribute values.
enum HTMLText {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// The pages of `/oauth/v2/authorize`: the consent page (which workspace, approve or deny)
/// and the error page. Self-contained HTML (inline style, no script, nothing external),
/// with stable element ids a browser test can drive: `#workspace` (a select),
/// `#approve` and `#deny` (submit buttons named `decision`), `#error` on the error page.
enum OAuthAuthorizePage {
    /// What the consent page shows and carries.
    struct Consent {
        var appID: String
        var clientID: String
        var botScopes: [String]
        var userScopes: [String]
        /// Hidden fields posted back with the decision, in order.
        var hidden: [(String, String)]
        var workspaces: [SimConfig.Workspace]
        var enterprises: [SimConfig.Enterprise]
        /// The workspace (or organisation) selected first (the `team` parameter).
        var preselected: String?
    }

    static let style = """
    body{font-family:system-ui,sans-serif;max-width:36em;margin:3em auto;color:#1d1c1d}
    h1{font-size:1.4em}ul{padding-left:1.2em}code{background:#f4f4f4;padding:0 .2em}
    button{font-size:1em;padding:.5em 1.2em;margin-right:.6em}#approve{background:#007a5a;color:#fff;border:0}
    .error{color:#b00}
    """

    /// The consent page.
    static func consent(_ c: Consent) -> String {
        func list(_ scopes: [String]) -> String {
            scopes.map { "<li><code>\(HTMLText.escape($0))</code></li>" }.joined()
        }
        var options: [String] = []
        for w in c.workspaces {
            let org = w.enterpriseID.flatMap { id in c.enterprises.first { $0.id == id } }.map { " (\($0.name))" } ?? ""
            options.append(option(value: w.id, label: w.name + org, selected: c.preselected == w.id))
        }
        for e in c.enterprises {
            options.append(option(value: e.id, label: "\(e.name) (whole organization)", selected: c.preselected == e.id))
        }
        let hidden = c.hidden.map { #"<input type="hidden" name="\#(HTMLText.escape($0.0))" value="\#(HTMLText.escape($0.1))">"# }
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Install \(HTMLText.escape(c.appID)) | Sockeye Sim Slack</title>
        <style>\(style)</style></head>
        <body>
        <h1 id="title">\(HTMLText.escape(c.appID)) is requesting permission to access a Slack workspace</h1>
        <p>Client <code id="client-id">\(HTMLText.escape(c.clientID))</code></p>
        <form method="post" action="/oauth/v2/authorize">
        \(hidden.joined(separator: "\n"))
        <p><label for="workspace">Workspace</label>
        <select id="workspace" name="workspace">\(options.joined())</select></p>
        <h2>Bot permissions</h2><ul id="bot-scopes">\(list(c.botScopes))</ul>
        <h2>User permissions</h2><ul id="user-scopes">\(list(c.userScopes))</ul>
        <p><button id="approve" type="submit" name="decision" value="approve">Allow</button>
        <button id="deny" type="submit" name="decision" value="deny">Cancel</button></p>
        </form>
        </body></html>
        """
    }

    static func option(value: String, label: String, selected: Bool) -> String {
        #"<option value="\#(HTMLText.escape(value))"\#(selected ? " selected" : "")>\#(HTMLText.escape(label))</option>"#
    }

    /// The error page: Slack shows one instead of redirecting for a bad client or
    /// redirect URL.
    static func error(_ code: String, _ message: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>Error | Sockeye Sim Slack</title><style>\(style)</style></head>
        <body><h1>Something went wrong when authorizing this app.</h1>
        <p class="error">Error: <code id="error">\(HTMLText.escape(code))</code></p>
        <p id="message">\(HTMLText.escape(message))</p></body></html>
        """
    }
}
