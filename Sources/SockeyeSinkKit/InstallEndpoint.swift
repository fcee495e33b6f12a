/// A page of the "Add to Slack" flow, ready to send: status, HTML and headers
/// (`Set-Cookie`, `Cache-Control`).
public struct InstallPage: Sendable {
    public var status: Int
    public var html: String
    public var headers: [(String, String)]

    public init(status: Int, html: String, headers: [(String, String)]) {
        self.status = status
        self.html = html
        self.headers = headers
    }
}

/// An app installed by OAuth, as the public listener sees it: the install page and the
/// browser's return from Slack (`SockeyeOperations` serves them; the daemon conforms).
public protocol InstallEndpoint: Sendable {
    /// The app's name (metrics, logs).
    var name: String { get }
    /// The install page: an "Add to Slack" link with a fresh state, and its cookie.
    func installPage() -> InstallPage
    /// The browser's return to the redirect URL with `query` (the raw query string) and its
    /// `Cookie` header: checks the state, exchanges the code, stores the installation.
    /// Bounded in time (the Web API calls have deadlines).
    func completeInstall(query: String, cookieHeader: String?) async -> InstallPage
}

/// Where a GET on the public listener goes: an app's install page or its OAuth redirect.
public struct InstallRoute: Sendable {
    public enum Kind: Sendable {
        case installPage
        case redirect
    }

    public let endpoint: any InstallEndpoint
    public let kind: Kind

    public init(endpoint: any InstallEndpoint, kind: Kind) {
        self.endpoint = endpoint
        self.kind = kind
    }
}
