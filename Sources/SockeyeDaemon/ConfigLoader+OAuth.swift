import Sockeye
import Yams

extension NodeReader {
    /// An app's `oauth:` block: `client_id`, `client_secret`, `scopes`, `user_scopes`,
    /// `redirect_url`, `store`, and optionally `authorize_url`, `install_path`,
    /// `accept_installs_without_state`, `retention`, `refresh_ahead` and `check_interval`.
    func oauth(_ node: Node, _ key: String) throws(ConfigError) -> OAuthSettings {
        let fields = try members(node, key, allowed: ["client_id", "client_secret", "scopes", "user_scopes", "redirect_url", "store",
                                                      "authorize_url", "install_path", "accept_installs_without_state", "retention",
                                                      "refresh_ahead", "check_interval"])
        func field(_ name: String) -> Node? { fields.first { $0.0 == name }?.1 }
        func required(_ name: String, _ hint: String) throws(ConfigError) -> (String, Node) {
            guard let found = field(name) else { throw fail(node, "\(key).\(name)", "missing: \(hint)") }
            let text = try string(found, "\(key).\(name)")
            guard !text.isEmpty else { throw fail(found, "\(key).\(name)", "empty: \(hint)") }
            return (text, found)
        }
        let (clientID, clientIDNode) = try required("client_id", "the app's Client ID (Basic Information), e.g. ${SLACK_CLIENT_ID}")
        guard clientID.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }) else {
            throw fail(clientIDNode, "\(key).client_id", "a Client ID is digits and dots (1234567890.1234567890)")
        }
        let (secret, _) = try required("client_secret", "the app's Client Secret, from the environment: ${SLACK_CLIENT_SECRET}")
        let (redirect, redirectNode) = try required("redirect_url", "the public URL Slack sends the browser back to, "
                                                   + "e.g. https://slack.example.com/slack/oauth_redirect")
        guard let parsed = try? EndpointURL(redirect), parsed.scheme.isHTTP, parsed.query == nil else {
            throw fail(redirectNode, "\(key).redirect_url", "expected an https:// URL without a query (one of the app's Redirect URLs)")
        }
        let (store, _) = try required("store", "the installation store's path, e.g. /var/lib/sockeyed/installations.db")
        var scopes: [String] = []
        if let scopesNode = field("scopes") { scopes = try scopeList(scopesNode, "\(key).scopes") }
        var settings = OAuthSettings(clientID: clientID, clientSecret: secret, scopes: scopes, redirectURL: redirect, storePath: store)
        if let userScopes = field("user_scopes") { settings.userScopes = try scopeList(userScopes, "\(key).user_scopes") }
        guard !settings.scopes.isEmpty || !settings.userScopes.isEmpty else {
            throw fail(node, "\(key).scopes", "missing: the bot scopes to ask for (or user_scopes), e.g. [app_mentions:read, chat:write]")
        }
        if let authorize = field("authorize_url") {
            settings.authorizeURL = try string(authorize, "\(key).authorize_url")
            guard let url = try? EndpointURL(settings.authorizeURL), url.scheme.isHTTP, url.query == nil else {
                throw fail(authorize, "\(key).authorize_url", "expected an http:// or https:// URL without a query")
            }
        }
        if let install = field("install_path") {
            settings.installPath = try string(install, "\(key).install_path")
            guard settings.installPath.hasPrefix("/"), !settings.installPath.contains(" "), !settings.installPath.contains("?") else {
                throw fail(install, "\(key).install_path", "expected a path such as /slack/install (no host, no query)")
            }
        }
        guard settings.installPath != settings.redirectPath else {
            throw fail(redirectNode, "\(key).redirect_url", "its path is the install page's (\(settings.installPath)): give them different paths")
        }
        if let open = field("accept_installs_without_state") {
            settings.acceptsInstallsWithoutState = try bool(open, "\(key).accept_installs_without_state")
        }
        if let retention = field("retention") {
            settings.retentionSeconds = try duration(retention, "\(key).retention", range: 60...(366 * 86_400))
        }
        if let ahead = field("refresh_ahead") {
            // Slack's rotating tokens last 12 hours: refreshing more than 11 hours ahead
            // would refresh again at once.
            settings.refreshAheadSeconds = try duration(ahead, "\(key).refresh_ahead", range: 60...(11 * 3_600))
        }
        if let check = field("check_interval") {
            let text = try string(check, "\(key).check_interval")
            settings.checkIntervalSeconds = text == "0" ? 0 : try duration(check, "\(key).check_interval", range: 10...(30 * 86_400))
        }
        return settings
    }

    /// Scopes as a list or one comma-separated text; each is a Slack scope name.
    private func scopeList(_ node: Node, _ key: String) throws(ConfigError) -> [String] {
        var out: [String] = []
        for item in try strings(node, key) {
            for scope in item.split(separator: ",") {
                let name = scope.trimmingCharacters(in: .whitespaces)
                guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ":._-".contains($0)) }) else {
                    throw fail(node, key, "\(ConfigLoader.quoted(String(scope))) is not a scope name (such as chat:write)")
                }
                if !out.contains(name) { out.append(name) }
            }
        }
        return out
    }
}

extension NodeReader {
    /// Apps installed by OAuth serve their install page and redirect on the public listener,
    /// each path by one app, and none of them an ingress path.
    func checkOAuthPaths(_ apps: [AppSettings], appNodes: [Node], listeners: ListenerSettings) throws(ConfigError) {
        var owners: [String: String] = [:]
        for app in apps where app.enabled && app.delivery.usesHTTP {
            for path in app.ingress.paths { owners[path] = app.name }
        }
        for (index, app) in apps.enumerated() where app.enabled {
            guard let oauth = app.oauth else { continue }
            guard listeners.publicAddress != nil else {
                throw fail(appNodes[index], "apps[\(index)].oauth",
                           "the install page and the OAuth redirect are served on the public listener: add `public: {listen: 0.0.0.0:3000}`")
            }
            for path in [oauth.installPath, oauth.redirectPath] {
                if let owner = owners[path] {
                    throw fail(appNodes[index], "apps[\(index)].oauth",
                               "the path \(path) is taken by app \"\(owner)\": give each app its own install and redirect paths")
                }
                owners[path] = app.name
            }
        }
    }
}
