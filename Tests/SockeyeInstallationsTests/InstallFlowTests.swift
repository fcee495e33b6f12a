import Foundation
import SockeyeSinkKit
import Testing
@testable import SockeyeInstallations

/// The install flow's decisions: state, cookie, the pages, the redirect.
@Suite struct InstallFlowTests {
    let flow = InstallFlow(settings: .init(appName: "Acme <bot>", clientID: "1111.2222", scopes: ["chat:write", "app_mentions:read"],
                                           userScopes: ["search:read"], redirectURL: "https://acme.example/slack/oauth_redirect",
                                           redirectPath: "/slack/oauth_redirect", authorizeURL: "https://slack.com/oauth/v2/authorize",
                                           acceptsInstallsWithoutState: false),
                           clientSecret: "s3cr3t")
    let random = (0..<32).map { UInt8($0 * 7 & 0xFF) }

    /// The state and cookie the install page issued.
    func issued(now: Int64 = 1_000) -> (state: String, cookie: String, page: InstallFlow.Page) {
        let page = flow.installPage(now: now, random: random)
        let setCookie = page.headers.first { $0.0 == "Set-Cookie" }!.1
        let cookie = String(setCookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1])
        let href = page.html.components(separatedBy: "href=\"")[1].components(separatedBy: "\"")[0].replacingOccurrences(of: "&amp;", with: "&")
        let query = String(href.split(separator: "?", maxSplits: 1)[1])
        let state = InstallFlow.fields(query).first { $0.0 == "state" }!.1
        return (state, cookie, page)
    }

    @Test func theInstallPageLinksToSlackWithEveryScopeAndABoundCookie() {
        let (state, _, page) = issued()
        #expect(page.status == 200)
        #expect(page.html.contains("Install Acme &lt;bot&gt;"))
        #expect(page.html.contains("https://slack.com/oauth/v2/authorize?client_id=1111.2222&amp;scope=chat%3Awrite%2Capp_mentions%3Aread"))
        #expect(page.html.contains("user_scope=search%3Aread"))
        #expect(page.html.contains("redirect_uri=https%3A%2F%2Facme.example%2Fslack%2Foauth_redirect"))
        let setCookie = page.headers.first { $0.0 == "Set-Cookie" }!.1
        for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/slack/oauth_redirect", "Max-Age=600"] {
            #expect(setCookie.contains(attribute))
        }
        #expect(state.count > 40)
    }

    @Test func aStateReturnedWithItsCookieIsExchanged() {
        let (state, cookie, _) = issued()
        let answer = flow.handleReturn(query: "code=abc.123&state=\(state)", cookieHeader: "other=1; sockeye_install=\(cookie)", now: 1_100)
        guard case .exchange(let code, let nonce, let expiry) = answer else { Issue.record("refused: \(answer)"); return }
        #expect(code == "abc.123")
        #expect(nonce != nil)
        #expect(expiry == 1_600)
    }

    @Test func badStatesAreRefusedWith400() {
        let (state, cookie, _) = issued()
        let other = flow.installPage(now: 1_000, random: (0..<32).map { UInt8(255 - $0) })
        let otherCookie = String(other.headers[0].1.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1])
        var flipped = Array(state.utf8)
        flipped[5] = flipped[5] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        let cases: [(String, String?, Int64, String)] = [
            ("code=c&state=\(state)", "sockeye_install=\(otherCookie)", 1_100, "state of another browser"),
            ("code=c&state=\(state)", nil, 1_100, "no state cookie"),
            ("code=c", "sockeye_install=\(cookie)", 1_100, "no state"),
            ("code=c&state=\(state)", "sockeye_install=\(cookie)", 1_600, "expired state"),
            ("code=c&state=\(String(decoding: flipped, as: UTF8.self))", "sockeye_install=\(cookie)", 1_100, "state of another browser"),
            ("code=c&state=not-ours", "sockeye_install=\(cookie)", 1_100, "malformed state"),
            ("state=\(state)", "sockeye_install=\(cookie)", 1_100, "no code"),
            ("error=access_denied&state=\(state)", "sockeye_install=\(cookie)", 1_100, "declined: access_denied"),
        ]
        for (query, header, now, why) in cases {
            guard case .refuse(let page, let reason) = flow.handleReturn(query: query, cookieHeader: header, now: now) else {
                Issue.record("accepted: \(query)")
                continue
            }
            #expect(page.status == 400)
            #expect(reason == why)
            #expect(page.headers.contains { $0.0 == "Set-Cookie" && $0.1.contains("Max-Age=0") })
        }
    }

    @Test func aStateFromAnotherAppsSecretIsRefused() {
        let (state, cookie, _) = issued()
        let other = InstallFlow(settings: flow.settings, clientSecret: "another")
        guard case .refuse = other.handleReturn(query: "code=c&state=\(state)", cookieHeader: "sockeye_install=\(cookie)", now: 1_100) else {
            Issue.record("another secret's state was accepted")
            return
        }
    }

    @Test func installsWithoutStateNeedTheSetting() {
        guard case .refuse = flow.handleReturn(query: "code=c", cookieHeader: nil, now: 1) else { Issue.record("accepted"); return }
        var settings = flow.settings
        settings.acceptsInstallsWithoutState = true
        let open = InstallFlow(settings: settings, clientSecret: "s3cr3t")
        #expect(open.handleReturn(query: "code=c", cookieHeader: nil, now: 1) == .exchange(code: "c", nonce: nil, stateExpiresAt: nil))
    }

    @Test func aStateIsRedeemedOnceAndTheTableIsBounded() {
        var used = UsedStates(capacity: 2)
        #expect(used.redeem("a", expiresAt: 100, now: 0) == .first)
        #expect(used.redeem("a", expiresAt: 100, now: 50) == .replayed)
        #expect(used.redeem("b", expiresAt: 100, now: 50) == .first)
        #expect(used.redeem("c", expiresAt: 100, now: 50) == .full)
        #expect(used.redeem("c", expiresAt: 200, now: 100) == .first)
        #expect(used.redeem("a", expiresAt: 200, now: 100) == .first)
    }

    @Test func base64URLRoundTripsAndRefusesOtherText() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(($0 * 37 + length) & 0xFF) }
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
        #expect(Base64URL.decode("ab+/") == nil)
        #expect(Base64URL.decode("abcde") == nil)
        #expect(Base64URL.decode("AB") == nil)  // leftover bits set
        #expect(Base64URL.decode(String(repeating: "A", count: 2000)) == nil)
    }

    @Test func theSuccessPageNamesTheWorkspaceEscaped() {
        let installation = Installation(appID: "A1", teamID: "T1", teamName: "<Team>", bot: nil, installerUserID: "U1", installedAt: 1)
        let page = flow.success(installation)
        #expect(page.status == 200)
        #expect(page.html.contains("the workspace &lt;Team&gt; (T1)"))
    }
}

/// Reading `oauth.v2.access` answers.
@Suite struct OAuthGrantTests {
    @Test func aWorkspaceInstallWithRotatingTokens() throws {
        let body = #"{"ok":true,"app_id":"A1","authed_user":{"id":"U9","scope":"search:read","access_token":"xoxe.xoxp-1-u","token_type":"user","refresh_token":"xoxe-1-ur","expires_in":43200},"scope":"chat:write,app_mentions:read","token_type":"bot","access_token":"xoxe.xoxb-1-b","bot_user_id":"U0BOT","refresh_token":"xoxe-1-br","expires_in":43200,"team":{"id":"T1","name":"One"},"enterprise":null,"is_enterprise_install":false}"#
        let installation = try OAuthGrant.read(Array(body.utf8), now: 1_000).installation
        #expect(installation.id == "T1")
        #expect(installation.bot == BotCredentials(token: "xoxe.xoxb-1-b", botID: "", botUserID: "U0BOT", scopes: ["chat:write", "app_mentions:read"],
                                                  refreshToken: "xoxe-1-br", expiresAt: 44_200))
        #expect(installation.user == UserCredentials(token: "xoxe.xoxp-1-u", scopes: ["search:read"], refreshToken: "xoxe-1-ur", expiresAt: 44_200))
        #expect(installation.installerUserID == "U9")
    }

    @Test func anOrgWideInstallIsKeyedByItsEnterprise() throws {
        let body = #"{"ok":true,"app_id":"A1","authed_user":{"id":"U9"},"scope":"chat:write","token_type":"bot","access_token":"xoxb-1","bot_user_id":"U0BOT","team":null,"enterprise":{"id":"E1","name":"Org"},"is_enterprise_install":true}"#
        let installation = try OAuthGrant.read(Array(body.utf8), now: 1).installation
        #expect(installation.id == "E1")
        #expect(installation.isEnterpriseInstall)
        #expect(installation.teamID == nil)
        #expect(installation.bot?.expiresAt == nil)
    }

    @Test func errorsCarryNoToken() {
        #expect(throws: OAuthAnswerError.api("invalid_code")) { try OAuthGrant.read(Array(#"{"ok":false,"error":"invalid_code"}"#.utf8), now: 1) }
        #expect(throws: OAuthAnswerError.api("unknown_error")) {
            try OAuthGrant.read(Array(#"{"ok":false,"error":"xoxb-123 leaked"}"#.utf8), now: 1)
        }
        #expect(throws: OAuthAnswerError.self) { try OAuthGrant.read(Array("<html>".utf8), now: 1) }
        #expect(throws: OAuthAnswerError.self) {
            try OAuthGrant.read(Array(#"{"ok":true,"app_id":"A1","authed_user":{"id":"U9"},"token_type":"bot","access_token":"xoxb-1","team":{"id":"T1"}}"#.utf8), now: 1)
        }
    }

    @Test func hostileExpiriesCannotTrap() throws {
        for value in ["1e300", "-5", "0", "9223372036854775807"] {
            let body = #"{"ok":true,"access_token":"xoxe.xoxb-1-n","refresh_token":"xoxe-1-n","token_type":"bot","expires_in":"# + value + "}"
            let refreshed = try RefreshedToken.read(Array(body.utf8), now: 1_000)
            #expect(refreshed.expiresAt! >= 1_000 && refreshed.expiresAt! <= 1_000 + 366 * 86_400)
        }
    }
}

/// Per-event authorization against the installations' index.
@Suite struct AuthorizationIndexTests {
    static func installation(team: String?, enterprise: String? = nil, orgWide: Bool = false, bot: String) -> Installation {
        Installation(appID: "A1", enterpriseID: enterprise, teamID: team, isEnterpriseInstall: orgWide,
                     bot: BotCredentials(token: "xoxb-\(bot)", botID: "B\(bot)", botUserID: "U\(bot)", scopes: []),
                     installerUserID: "U0", installedAt: 1)
    }

    let directory = InstallationDirectory([
        installation(team: "T1", bot: "1"),
        installation(team: nil, enterprise: "E1", orgWide: true, bot: "2"),
        installation(team: "T5", enterprise: "E2", bot: "3"),
    ])

    @Test func eachWorkspaceFindsItsInstallation() {
        #expect(directory.authorize(EventTenant(enterpriseID: nil, teamID: "T1", isEnterpriseInstall: false))
            == EventAuthorization(installationID: "T1", botUserID: "U1", botID: "B1"))
        for team in ["T2", "T3", "T4"] {
            #expect(directory.authorize(EventTenant(enterpriseID: "E1", teamID: team, isEnterpriseInstall: true))?.installationID == "E1")
        }
        #expect(directory.authorize(EventTenant(enterpriseID: "E2", teamID: "T5", isEnterpriseInstall: false))?.installationID == "T5")
        #expect(directory.authorize(EventTenant(enterpriseID: "E2", teamID: "T6", isEnterpriseInstall: false)) == nil)
        #expect(directory.authorize(EventTenant(enterpriseID: nil, teamID: "T9", isEnterpriseInstall: false)) == nil)
        #expect(directory.authorize(EventTenant(enterpriseID: "E9", teamID: nil, isEnterpriseInstall: true)) == nil)
    }

    @Test func aReplacedIndexForgetsRevokedInstallations() {
        directory.replace(with: [Self.installation(team: "T1", bot: "1")])
        #expect(directory.count == 1)
        #expect(directory.authorize(EventTenant(enterpriseID: "E1", teamID: "T2", isEnterpriseInstall: true)) == nil)
    }
}
