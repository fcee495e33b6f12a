/// The simulated Slack's organisation: workspaces (teams), Enterprise Grid organisations,
/// and each app's OAuth client (`SimConfig.workspaces`, `SimConfig.enterprises`,
/// `SimConfig.App.oauth`).
extension SimConfig {
    /// A workspace (team) a user can install an app into.
    public struct Workspace: Codable, Sendable, Equatable {
        /// `T…`.
        public var id: String
        public var name: String
        /// The `<domain>.slack.com` part (`team.domain`, `team_domain`).
        public var domain: String
        /// The Enterprise Grid organisation this workspace belongs to (`E…`), if any.
        public var enterpriseID: String?
        /// The workspace's user who installs apps and writes the simulated user messages.
        public var userID: String

        /// `userID` nil: `U` + the team id without its `T` (T0SIM0001 → U0SIM0001).
        public init(id: String, name: String, domain: String? = nil, enterpriseID: String? = nil, userID: String? = nil) {
            self.id = id
            self.name = name
            self.domain = domain ?? Self.domain(of: name)
            self.enterpriseID = enterpriseID
            self.userID = userID ?? "U" + id.dropFirst()
        }

        enum CodingKeys: String, CodingKey { case id, name, domain, enterpriseID, userID }

        /// Only `id` is required; the rest default as in `init`.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let id = try c.decode(String.self, forKey: .id)
            self.init(id: id, name: try c.decodeIfPresent(String.self, forKey: .name) ?? id,
                      domain: try c.decodeIfPresent(String.self, forKey: .domain),
                      enterpriseID: try c.decodeIfPresent(String.self, forKey: .enterpriseID),
                      userID: try c.decodeIfPresent(String.self, forKey: .userID))
        }

        /// A name lowercased with runs of other characters turned into one `-`.
        static func domain(of name: String) -> String {
            var out = ""
            for ch in name.lowercased() {
                if ch.isASCII, ch.isLetter || ch.isNumber { out.append(ch) } else if !out.hasSuffix("-"), !out.isEmpty { out.append("-") }
            }
            while out.hasSuffix("-") { out.removeLast() }
            return out.isEmpty ? "workspace" : out
        }
    }

    /// An Enterprise Grid organisation; its workspaces name it in `Workspace.enterpriseID`.
    public struct Enterprise: Codable, Sendable, Equatable {
        /// `E…`.
        public var id: String
        public var name: String
        public init(id: String, name: String) { self.id = id; self.name = name }
    }

    /// An app's OAuth client: what `oauth/v2/authorize` and `oauth.v2.access` check.
    public struct OAuthClient: Codable, Sendable, Equatable {
        /// `client_id` (Slack's look like `1111.2222`).
        public var clientID: String
        public var clientSecret: String
        /// Redirect URLs the app allows; empty: any `redirect_uri`.
        public var redirectURLs: [String]
        /// Token rotation: access tokens expire after this many seconds (1 … 31 536 000;
        /// values outside are clamped) and come with single-use refresh tokens; nil:
        /// tokens never expire and no refresh token is issued.
        public var tokenLifetimeSeconds: Int?

        public init(clientID: String, clientSecret: String, redirectURLs: [String] = [], tokenLifetimeSeconds: Int? = nil) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURLs = redirectURLs
            self.tokenLifetimeSeconds = tokenLifetimeSeconds
        }

        enum CodingKeys: String, CodingKey { case clientID, clientSecret, redirectURLs, tokenLifetimeSeconds }

        /// `clientID` and `clientSecret` are required; the rest default as in `init`.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(clientID: try c.decode(String.self, forKey: .clientID),
                      clientSecret: try c.decode(String.self, forKey: .clientSecret),
                      redirectURLs: try c.decodeIfPresent([String].self, forKey: .redirectURLs) ?? [],
                      tokenLifetimeSeconds: try c.decodeIfPresent(Int.self, forKey: .tokenLifetimeSeconds))
        }

        /// `tokenLifetimeSeconds` within 1 … 31 536 000 (a year), or nil.
        public var effectiveTokenLifetime: Int? { tokenLifetimeSeconds.map { min(max($0, 1), 31_536_000) } }

        /// The first app's client by default: a test fixture, documented in the README.
        public static let `default` = OAuthClient(clientID: "1111.2222", clientSecret: "simclientsecret")
    }

    /// Two standalone workspaces and the three workspaces of `defaultEnterprises`.
    public static let defaultWorkspaces: [Workspace] = [
        Workspace(id: "T0SIM0001", name: "Sim Workspace One"),
        Workspace(id: "T0SIM0002", name: "Sim Workspace Two"),
        Workspace(id: "T0ORG0001", name: "Sim Org Workspace One", enterpriseID: "E0SIMORG1"),
        Workspace(id: "T0ORG0002", name: "Sim Org Workspace Two", enterpriseID: "E0SIMORG1"),
        Workspace(id: "T0ORG0003", name: "Sim Org Workspace Three", enterpriseID: "E0SIMORG1"),
    ]

    /// One organisation, `E0SIMORG1` "Sim Org".
    public static let defaultEnterprises: [Enterprise] = [Enterprise(id: "E0SIMORG1", name: "Sim Org")]

    /// The workspace with id `id`.
    public func workspace(_ id: String) -> Workspace? { workspaces.first { $0.id == id } }

    /// The organisation with id `id`.
    public func enterprise(_ id: String) -> Enterprise? { enterprises.first { $0.id == id } }

    /// The workspaces of organisation `id`, in configuration order.
    public func workspaces(ofEnterprise id: String) -> [Workspace] { workspaces.filter { $0.enterpriseID == id } }
}
