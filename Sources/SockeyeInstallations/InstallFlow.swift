import SockeyeSinkKit

/// The "Add to Slack" flow's decisions, without I/O: the install page with its state and
/// cookie, and what to do with the browser's return to the redirect URL. The daemon serves
/// the pages, redeems the state in `UsedStates`, calls `oauth.v2.access` and stores the
/// installation; every decision that depends on the request is made here.
public struct InstallFlow: Sendable {
    /// What the flow needs of the app's `oauth:` settings.
    public struct Settings: Sendable, Equatable {
        public var appName: String
        public var clientID: String
        public var scopes: [String]
        public var userScopes: [String]
        public var redirectURL: String
        public var redirectPath: String
        public var authorizeURL: String
        public var acceptsInstallsWithoutState: Bool

        public init(appName: String, clientID: String, scopes: [String], userScopes: [String], redirectURL: String, redirectPath: String,
                    authorizeURL: String, acceptsInstallsWithoutState: Bool) {
            self.appName = appName
            self.clientID = clientID
            self.scopes = scopes
            self.userScopes = userScopes
            self.redirectURL = redirectURL
            self.redirectPath = redirectPath
            self.authorizeURL = authorizeURL
            self.acceptsInstallsWithoutState = acceptsInstallsWithoutState
        }
    }

    /// A page to send: status, HTML and the headers that go with it.
    public struct Page: Sendable, Equatable {
        public var status: Int
        public var html: String
        /// `Set-Cookie` values and the like.
        public var headers: [(String, String)]

        public static func == (a: Page, b: Page) -> Bool {
            a.status == b.status && a.html == b.html && a.headers.elementsEqual(b.headers) { $0 == $1 }
        }
    }

    public let settings: Settings
    private let signer: InstallStateSigner

    public init(settings: Settings, clientSecret: String) {
        self.settings = settings
        signer = InstallStateSigner(clientSecret: clientSecret)
    }

    /// The install page at `now`, from 32 random bytes: an "Add to Slack" link to Slack's
    /// authorization page with a fresh state, and the cookie that binds it to this browser.
    public func installPage(now: Int64, random: [UInt8]) -> Page {
        let (state, cookie) = signer.issue(now: now, random: random)
        let link = authorizeURL(state: state)
        let body = """
            <h1>Install \(InstallPages.escape(settings.appName))</h1>
            <p>Add the app to a Slack workspace (or, on Enterprise Grid, to the whole organization).</p>
            <p><a id="add-to-slack" class="button" href="\(InstallPages.escape(link))">Add to Slack</a></p>
            <p class="small">The link is valid for ten minutes, in this browser only.</p>
            """
        let setCookie = "\(InstallStateSigner.cookieName)=\(cookie); Path=\(settings.redirectPath); Max-Age=\(InstallStateSigner.lifetimeSeconds); "
            + "Secure; HttpOnly; SameSite=Lax"
        return Page(status: 200, html: InstallPages.document(title: "Install \(settings.appName)", body: body),
                    headers: [("Set-Cookie", setCookie), ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer")])
    }

    /// Slack's authorization page for `state`: client id, scopes, user scopes, redirect URL.
    public func authorizeURL(state: String) -> String {
        var pairs: [(String, String)] = [("client_id", settings.clientID), ("scope", settings.scopes.joined(separator: ","))]
        if !settings.userScopes.isEmpty { pairs.append(("user_scope", settings.userScopes.joined(separator: ","))) }
        pairs.append(("redirect_uri", settings.redirectURL))
        pairs.append(("state", state))
        return settings.authorizeURL + "?" + String(decoding: FormEncoding.encode(pairs), as: UTF8.self)
    }

    /// What to do with the browser's return to the redirect URL.
    public enum Return: Sendable, Equatable {
        /// Exchange `code` (after redeeming `nonce` in `UsedStates` when there is one).
        case exchange(code: String, nonce: String?, stateExpiresAt: Int64?)
        /// Refuse with `page` (400: a bad, replayed, expired or foreign state; the user
        /// declined) and write nothing.
        case refuse(Page, reason: String)
    }

    /// Reads the redirect's `query` (the raw query string) with the browser's `cookie`
    /// header at `now`.
    public func handleReturn(query: String, cookieHeader: String?, now: Int64) -> Return {
        let fields = Self.fields(query)
        func field(_ name: String) -> String? { fields.first { $0.0 == name }?.1 }
        if let error = field("error") {
            let code = InstallPages.shortCode(error)
            return .refuse(failure(status: 400, "The installation was not approved (\(code)). Nothing was installed."), reason: "declined: \(code)")
        }
        guard let code = field("code"), !code.isEmpty, code.utf8.count <= 512 else {
            return .refuse(failure(status: 400, "The request has no authorization code."), reason: "no code")
        }
        let state = field("state")
        let cookie = Self.cookie(InstallStateSigner.cookieName, in: cookieHeader)
        if state == nil || state == "", settings.acceptsInstallsWithoutState {
            return .exchange(code: code, nonce: nil, stateExpiresAt: nil)
        }
        switch signer.verify(state: state, cookie: cookie, now: now) {
        case .valid(let nonce, let expiresAt):
            return .exchange(code: code, nonce: nonce, stateExpiresAt: expiresAt)
        case .missing:
            return .refuse(failure(status: 400, "The installation must start from this server's install page, in this browser."),
                           reason: state == nil || state == "" ? "no state" : "no state cookie")
        case .malformed:
            return .refuse(failure(status: 400, "The request's state is not one this server issued."), reason: "malformed state")
        case .foreignCookie:
            return .refuse(failure(status: 400, "The request's state was issued to another browser, or was altered."), reason: "state of another browser")
        case .expired:
            return .refuse(failure(status: 400, "The installation link expired (after ten minutes): start again."), reason: "expired state")
        }
    }

    /// The page after a replayed state (`UsedStates` said so).
    public func replayed() -> Page {
        failure(status: 400, "This installation link was used already: start again from the install page.")
    }

    /// The page when too many installs are in progress (`UsedStates` is full).
    public func busy() -> Page {
        failure(status: 503, "Too many installations are in progress: try again in a few minutes.")
    }

    /// The page after a successful install; the state cookie is cleared.
    public func success(_ installation: Installation) -> Page {
        let place = installation.isEnterpriseInstall
            ? "the organization \(InstallPages.escape(installation.enterpriseName ?? installation.enterpriseID ?? ""))"
            : "the workspace \(InstallPages.escape(installation.teamName ?? installation.teamID ?? ""))"
        let body = """
            <h1 id="installed">Installed</h1>
            <p>\(InstallPages.escape(settings.appName)) is now installed in \(place) (\(InstallPages.escape(installation.id))).</p>
            <p class="small">You can close this page.</p>
            """
        return Page(status: 200, html: InstallPages.document(title: "Installed", body: body), headers: clearingCookie)
    }

    /// An error page with `status` saying `message`; the state cookie is cleared.
    public func failure(status: Int, _ message: String) -> Page {
        let body = """
            <h1 id="install-failed">Installation failed</h1>
            <p>\(InstallPages.escape(message))</p>
            """
        return Page(status: status, html: InstallPages.document(title: "Installation failed", body: body), headers: clearingCookie)
    }

    private var clearingCookie: [(String, String)] {
        [("Set-Cookie", "\(InstallStateSigner.cookieName)=; Path=\(settings.redirectPath); Max-Age=0; Secure; HttpOnly; SameSite=Lax"),
         ("Cache-Control", "no-store"), ("Referrer-Policy", "no-referrer")]
    }

    /// The query's fields, decoded; an undecodable query has none.
    static func fields(_ query: String) -> [(String, String)] {
        guard query.utf8.count <= 8192 else { return [] }
        return Array(query.utf8).withUnsafeBytes { FormEncoding.decode($0) } ?? []
    }

    /// The value of cookie `name` in a `Cookie` header (`a=1; b=2`).
    static func cookie(_ name: String, in header: String?) -> String? {
        guard let header else { return nil }
        for part in header.split(separator: ";") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces) == name {
                return pair[1].trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }
}
