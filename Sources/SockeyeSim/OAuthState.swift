/// Slack's OAuth side without I/O: pending authorization codes, installations, every token
/// issued and what became of it, and the counters tests assert on. Owned by `SimCore` (the
/// service thread); time comes in as `now` (monotonic seconds) on every call and is moved
/// by `clockOffset` (`POST /admin/oauth/advance`), so expiry can be tested without waiting.
///
/// The HTTP decisions built on it: `OAuthAuthorize` (`/oauth/v2/authorize`), `OAuthAccess`
/// (`oauth.v2.access`), `TokenWebAPI` (`auth.test`, `auth.revoke`, `chat.postMessage`).
final class OAuthState {
    /// An installation's key: app index and the enterprise id (org-wide) or team id.
    struct Key: Hashable, Sendable {
        var client: Int
        var id: String
    }

    /// Where an approval installs the app.
    enum Target: Equatable {
        case team(SimConfig.Workspace)
        /// Org-wide: the whole organisation.
        case enterprise(SimConfig.Enterprise)

        var id: String {
            switch self {
            case .team(let w): w.id
            case .enterprise(let e): e.id
            }
        }
    }

    /// An authorization code waiting for `oauth.v2.access`.
    struct PendingCode {
        var client: Int
        /// The `redirect_uri` of the authorize request, if it had one.
        var redirectURI: String?
        var target: Target
        var botScopes: [String]
        var userScopes: [String]
        var expiresAt: Double
    }

    /// One access token ever issued.
    struct TokenRecord {
        var key: Key
        var bot: Bool
        var expiresAt: Double?
        var revoked = false
    }

    /// One refresh token ever issued; `used` once exchanged or revoked.
    struct RefreshRecord {
        var key: Key
        var bot: Bool
        var used = false
    }

    /// Per-client counters (`OAuthClientReport`).
    struct ClientCounters {
        var authorizePages = 0
        var approvals = 0
        var denials = 0
        /// Authorize requests answered with an error page, by error.
        var authorizeErrors: [String: Int] = [:]
        /// `oauth.v2.access` calls by `grant_type` (`authorization_code`, `refresh_token`,
        /// anything else as sent, cut to 40 characters).
        var accessCalls: [String: Int] = [:]
        /// `oauth.v2.access` errors by code.
        var accessErrors: [String: Int] = [:]
        var authRevokeCalls = 0
        var revocations: [OAuthRevocation] = []
        /// Web API calls with a revoked, or an expired, token of this client, by method.
        var revokedTokenCalls: [String: Int] = [:]
        var expiredTokenCalls: [String: Int] = [:]
    }

    /// Most pending codes kept at once (expired ones are purged first).
    static let maxPendingCodes = 10_000
    /// Most token records kept; past it, expired ones are forgotten (they then answer
    /// `invalid_auth` instead of `token_expired`).
    static let maxTokenRecords = 200_000

    var config: SimConfig
    var mint: OAuthMint
    /// Added to every `now` (seconds; ≥ 0).
    var clockOffset: Double = 0
    var codes: [String: PendingCode] = [:]
    var installations: [Key: SimInstallation] = [:]
    /// Installation keys in the order they were first made. An installation is never
    /// dropped: an uninstalled one keeps its bot ids and counters and becomes active again
    /// when the app is reinstalled there.
    var order: [Key] = []
    var tokens: [String: TokenRecord] = [:]
    var refreshTokens: [String: RefreshRecord] = [:]
    var counters: [ClientCounters]
    /// `oauth.v2.access` calls naming no known client.
    var unknownClientCalls = 0
    /// Web API calls with a token that was never issued, by method.
    var unknownTokenCalls: [String: Int] = [:]
    /// Configuration tokens (`SimConfig.botTokens`) revoked by `auth.revoke`.
    var revokedConfigTokens: Set<String> = []
    /// A counter making `chat.postMessage` timestamps unique.
    var messageCounter = 0

    init(config: SimConfig, mint: OAuthMint = .system()) {
        self.config = config
        self.mint = mint
        counters = Array(repeating: ClientCounters(), count: config.apps.count)
    }

    /// The OAuth clock: `now` moved by `clockOffset`.
    func clock(_ now: Double) -> Double { now + clockOffset }

    /// The app index whose OAuth client has `clientID`.
    func client(id clientID: String) -> Int? {
        config.apps.firstIndex { $0.oauth?.clientID == clientID }
    }

    /// App `i`'s OAuth client.
    func oauthClient(_ i: Int) -> SimConfig.OAuthClient? {
        config.apps.indices.contains(i) ? config.apps[i].oauth : nil
    }

    /// The target named by a workspace or organisation id.
    func target(_ id: String) -> Target? {
        if let w = config.workspace(id) { return .team(w) }
        if let e = config.enterprise(id) { return .enterprise(e) }
        return nil
    }

    // MARK: codes

    /// Issues a single-use code for an approval; nil when too many are pending.
    func issueCode(client: Int, redirectURI: String?, target: Target, botScopes: [String], userScopes: [String], now: Double) -> String? {
        let t = clock(now)
        if codes.count >= Self.maxPendingCodes { codes = codes.filter { $0.value.expiresAt > t } }
        guard codes.count < Self.maxPendingCodes else { return nil }
        let code = mint.code()
        codes[code] = PendingCode(client: client, redirectURI: redirectURI, target: target, botScopes: botScopes,
                                  userScopes: userScopes, expiresAt: t + max(0, config.oauthCodeLifetime))
        return code
    }

    /// Why a code cannot be exchanged.
    enum CodeRefusal: Error { case invalidCode, badRedirectURI }

    /// Takes the code for `client`: unknown, used, expired or another client's → invalid
    /// code; a `redirect_uri` other than the authorize request's (when it had one) → bad
    /// redirect (the code stays usable). A code is consumed only when it is accepted.
    func takeCode(_ code: String, client: Int, redirectURI: String?, now: Double) throws(CodeRefusal) -> PendingCode {
        guard let p = codes[code], p.client == client else { throw .invalidCode }
        guard p.expiresAt > clock(now) else {
            codes.removeValue(forKey: code)
            throw .invalidCode
        }
        if let wanted = p.redirectURI, wanted != redirectURI { throw .badRedirectURI }
        codes.removeValue(forKey: code)
        return p
    }

    // MARK: installing

    /// What an install or a refresh handed out.
    struct Issued {
        var installation: SimInstallation
        var bot: Grant?
        var user: Grant?
        /// The grants as handed out: the access and refresh tokens and `expires_in`.
        struct Grant {
            var access: String
            var refresh: String?
            var expiresIn: Int?
        }
    }

    /// Installs (or reinstalls) the app of an accepted code. A reinstall of an active
    /// installation without rotation hands back the same tokens (with the new scopes); with
    /// rotation, or after an uninstall, new tokens (a replaced refresh token is revoked,
    /// replaced access tokens work until they expire).
    func install(_ p: PendingCode, now: Double) -> Issued {
        let key = Key(client: p.client, id: p.target.id)
        let team: SimConfig.Workspace?
        let enterprise: SimConfig.Enterprise?
        switch p.target {
        case .team(let w):
            team = w
            enterprise = w.enterpriseID.flatMap { config.enterprise($0) }
        case .enterprise(let e):
            team = nil
            enterprise = e
        }
        let installer = team?.userID ?? config.workspaces(ofEnterprise: p.target.id).first?.userID ?? "U0SIMADMIN"
        let inst: SimInstallation
        if let old = installations[key] {
            // The same installation, active again after an uninstall: same bot, counters kept.
            inst = old
            inst.installs += 1
            inst.botScopes = p.botScopes
            inst.userScopes = p.userScopes
            inst.installerUserID = installer
            if inst.uninstalled {
                inst.uninstalled = false
                inst.endedBy = nil
                inst.removedTeams = []
            }
        } else {
            inst = SimInstallation(client: p.client, key: p.target.id, team: team, enterprise: enterprise, botUserID: mint.id("U0B"),
                                   botID: mint.id("B0"), installerUserID: installer, botScopes: p.botScopes, userScopes: p.userScopes)
            order.append(key)
            installations[key] = inst
        }
        var issued = Issued(installation: inst)
        issued.bot = p.botScopes.isEmpty ? nil : grant(inst, bot: true, now: now)
        issued.user = p.userScopes.isEmpty ? nil : grant(inst, bot: false, now: now)
        if p.botScopes.isEmpty, let g = inst.bot { revokeGrant(g); inst.bot = nil }
        if p.userScopes.isEmpty, let g = inst.user { revokeGrant(g); inst.user = nil }
        return issued
    }

    /// The bot or user grant of an install: the current one kept (no rotation), or a new one.
    func grant(_ inst: SimInstallation, bot: Bool, now: Double) -> Issued.Grant {
        let lifetime = oauthClient(inst.client)?.effectiveTokenLifetime
        if lifetime == nil, let g = inst.grant(bot: bot), !g.revoked {
            return Issued.Grant(access: g.access, refresh: nil, expiresIn: nil)
        }
        if let old = inst.grant(bot: bot), let r = old.refresh { refreshTokens[r]?.used = true }
        return newGrant(inst, bot: bot, lifetime: lifetime, now: now)
    }

    /// Mints and records a new access token (and, with `lifetime`, a refresh token).
    func newGrant(_ inst: SimInstallation, bot: Bool, lifetime: Int?, now: Double) -> Issued.Grant {
        let key = Key(client: inst.client, id: inst.key)
        let access = mint.accessToken(bot: bot, rotating: lifetime != nil)
        let expiresAt = lifetime.map { clock(now) + Double($0) }
        remember(access, TokenRecord(key: key, bot: bot, expiresAt: expiresAt), now: now)
        var refresh: String?
        if lifetime != nil {
            let r = mint.refreshToken()
            refreshTokens[r] = RefreshRecord(key: key, bot: bot)
            refresh = r
        }
        inst.setGrant(bot: bot, SimInstallation.Grant(access: access, refresh: refresh, expiresAt: expiresAt))
        return Issued.Grant(access: access, refresh: refresh, expiresIn: lifetime)
    }

    func remember(_ token: String, _ record: TokenRecord, now: Double) {
        if tokens.count >= Self.maxTokenRecords {
            let t = clock(now)
            tokens = tokens.filter { ($0.value.expiresAt ?? .infinity) > t }
        }
        tokens[token] = record
    }

    /// Revokes a grant's access and refresh tokens.
    func revokeGrant(_ g: SimInstallation.Grant) {
        tokens[g.access]?.revoked = true
        if let r = g.refresh { refreshTokens[r]?.used = true }
    }

    /// Why a refresh grant was refused: always `invalid_refresh_token` for the caller.
    struct RefreshRefused: Error {}

    /// Exchanges a refresh token of `client` for a new pair; the old refresh token is used
    /// up, the old access token works until it expires.
    func refresh(_ token: String, client: Int, now: Double) throws(RefreshRefused) -> (SimInstallation, bot: Bool, Issued.Grant) {
        guard var r = refreshTokens[token], !r.used, r.key.client == client,
              let inst = installations[r.key], inst.active,
              let g = inst.grant(bot: r.bot), g.refresh == token, !g.revoked,
              let lifetime = oauthClient(client)?.effectiveTokenLifetime
        else { throw RefreshRefused() }
        r.used = true
        refreshTokens[token] = r
        inst.refreshes += 1
        return (inst, r.bot, newGrant(inst, bot: r.bot, lifetime: lifetime, now: now))
    }

    // MARK: tokens

    /// What a token is, for a Web API call.
    enum TokenStatus {
        /// A token of the configuration (`SimConfig.botTokens`).
        case configured(SimConfig.BotToken)
        /// A token of the configuration that `auth.revoke` revoked.
        case configuredRevoked
        /// A working OAuth token: its installation and kind, and its expiry (OAuth clock).
        case valid(SimInstallation, bot: Bool, expiresAt: Double?)
        case expired(SimInstallation)
        case revoked(SimInstallation)
        case unknown
    }

    /// Looks a token up, without counting the call.
    func status(of token: String, now: Double) -> TokenStatus {
        if let b = config.botTokens.first(where: { $0.token == token }) {
            return revokedConfigTokens.contains(token) ? .configuredRevoked : .configured(b)
        }
        guard let rec = tokens[token], let inst = installations[rec.key] else { return .unknown }
        if rec.revoked { return .revoked(inst) }
        if let e = rec.expiresAt, clock(now) >= e { return .expired(inst) }
        return .valid(inst, bot: rec.bot, expiresAt: rec.expiresAt)
    }

    /// Counts a Web API call by its token's status.
    func count(_ method: String, _ status: TokenStatus) {
        let name = String(method.prefix(60))
        switch status {
        case .configured, .configuredRevoked:
            break
        case .valid(let inst, _, _):
            inst.calls.ok[name, default: 0] += 1
        case .expired(let inst):
            inst.calls.expired[name, default: 0] += 1
            counters[inst.client].expiredTokenCalls[name, default: 0] += 1
        case .revoked(let inst):
            inst.calls.revoked[name, default: 0] += 1
            counters[inst.client].revokedTokenCalls[name, default: 0] += 1
        case .unknown:
            if unknownTokenCalls.count < 1000 || unknownTokenCalls[name] != nil { unknownTokenCalls[name, default: 0] += 1 }
        }
    }

    /// Revokes one access token (and its refresh token); when the installation then has no
    /// working token left, it is uninstalled. Returns whether it was uninstalled by this.
    @discardableResult
    func revoke(token: String, of inst: SimInstallation, bot: Bool) -> Bool {
        tokens[token]?.revoked = true
        if var g = inst.grant(bot: bot), g.access == token {
            revokeGrant(g)
            g.revoked = true
            inst.setGrant(bot: bot, g)
        }
        let left = [inst.bot, inst.user].contains { g in g.map { !$0.revoked } ?? false }
        if !left, !inst.uninstalled {
            inst.uninstalled = true
            inst.endedBy = "auth.revoke"
            return true
        }
        return false
    }

    /// Uninstalls: every token of the installation stops working.
    func uninstall(_ inst: SimInstallation) {
        let key = Key(client: inst.client, id: inst.key)
        for (t, rec) in tokens where rec.key == key && !rec.revoked { tokens[t]?.revoked = true }
        for (t, rec) in refreshTokens where rec.key == key && !rec.used { refreshTokens[t]?.used = true }
        for bot in [true, false] {
            if var g = inst.grant(bot: bot) { g.revoked = true; inst.setGrant(bot: bot, g) }
        }
        inst.uninstalled = true
        inst.endedBy = "uninstall"
    }

    /// The active installation of app `client` that covers workspace `team`: its own
    /// install, else its organisation's org-wide install (unless the workspace was taken
    /// out of it).
    func installation(covering team: SimConfig.Workspace, client: Int) -> SimInstallation? {
        if let i = installations[Key(client: client, id: team.id)], i.active { return i }
        if let e = team.enterpriseID, let i = installations[Key(client: client, id: e)], i.active,
           !i.removedTeams.contains(team.id) {
            return i
        }
        return nil
    }

    /// The installation an OAuth token was issued to, whatever became of the token.
    func installation(ofToken token: String) -> SimInstallation? {
        tokens[token].flatMap { installations[$0.key] }
    }

    /// The installation with `id` (team or enterprise id) of app `client`.
    func installation(_ id: String, client: Int) -> SimInstallation? { installations[Key(client: client, id: id)] }
}
