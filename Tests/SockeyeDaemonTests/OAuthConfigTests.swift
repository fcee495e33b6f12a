import SockeyeDaemon
import SockeyeSinkKit
import Testing

/// An app's `oauth:` block and the command sink's `pass_bot_token`.
@Suite("sockeyed configuration: oauth")
struct OAuthConfigTests {
    let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-secret", "SLACK_CLIENT_SECRET": "client-secret-value"]

    func document(oauth: String, public: Bool = true, extraSink: String = "") -> String {
        var text = """
            apps:
              - name: multi
                app_token: ${SLACK_APP_TOKEN}
                oauth:
            \(oauth.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
                routes:
                  - sinks: events
            sinks:
              events: {type: stdout}
            \(extraSink)
            """
        if `public` { text += "public:\n  listen: 127.0.0.1:3000\n" }
        return text
    }

    let minimal = """
        client_id: "1234.5678"
        client_secret: ${SLACK_CLIENT_SECRET}
        scopes: [chat:write, "app_mentions:read,commands"]
        redirect_url: https://slack.example.com/slack/oauth_redirect
        store: /var/lib/sockeyed/installations.db
        """

    @Test func aMinimalBlockWithItsDefaults() throws {
        let app = try parseConfig(document(oauth: minimal), environment: environment).apps[0]
        let oauth = try #require(app.oauth)
        #expect(oauth.clientID == "1234.5678")
        #expect(oauth.clientSecret == "client-secret-value")
        #expect(oauth.scopes == ["chat:write", "app_mentions:read", "commands"])
        #expect(oauth.redirectPath == "/slack/oauth_redirect")
        #expect(oauth.installPath == "/slack/install")
        #expect(oauth.authorizeURL == "https://slack.com/oauth/v2/authorize")
        #expect(!oauth.acceptsInstallsWithoutState)
        #expect(oauth.refreshAheadSeconds == 7_200)
        #expect(oauth.checkIntervalSeconds == 6 * 3_600)
        #expect(app.ignoreOwnMessages, "each installation's bot is known from the install")
    }

    @Test func everySetting() throws {
        let text = minimal + """

            user_scopes: search:read
            authorize_url: http://127.0.0.1:9000/oauth/v2/authorize
            install_path: /install
            accept_installs_without_state: true
            retention: 7d
            refresh_ahead: 3h
            check_interval: 0
            """
        let oauth = try #require(try parseConfig(document(oauth: text), environment: environment).apps[0].oauth)
        #expect(oauth.userScopes == ["search:read"])
        #expect(oauth.installPath == "/install")
        #expect(oauth.acceptsInstallsWithoutState)
        #expect(oauth.retentionSeconds == 7 * 86_400)
        #expect(oauth.refreshAheadSeconds == 3 * 3_600)
        #expect(oauth.checkIntervalSeconds == 0)
    }

    @Test func mistakesAreRefusedWithTheKeyAndNoSecret() {
        let cases: [(String, String)] = [
            (minimal.replacingOccurrences(of: "client_secret: ${SLACK_CLIENT_SECRET}\n", with: ""), "oauth.client_secret"),
            (minimal.replacingOccurrences(of: "\"1234.5678\"", with: "abc"), "oauth.client_id"),
            (minimal.replacingOccurrences(of: "https://slack.example.com/slack/oauth_redirect", with: "ftp://x/y"), "oauth.redirect_url"),
            (minimal.replacingOccurrences(of: "scopes: [chat:write, \"app_mentions:read,commands\"]\n", with: ""), "oauth.scopes"),
            (minimal.replacingOccurrences(of: "chat:write", with: "chat write"), "oauth.scopes"),
            (minimal + "\nrefresh_ahead: 12h", "oauth.refresh_ahead"),
            (minimal + "\ninstall_path: /slack/oauth_redirect", "oauth.redirect_url"),
            (minimal + "\nbogus: 1", "oauth.bogus"),
        ]
        for (text, key) in cases {
            let error = configError(document(oauth: text), environment: environment)
            #expect(error?.key.hasSuffix(key) == true, "\(key): \(String(describing: error))")
            #expect(error?.description.contains("client-secret-value") == false)
        }
        let noListener = configError(document(oauth: minimal, public: false), environment: environment)
        #expect(noListener?.description.contains("public listener") == true)
    }

    @Test func passBotTokenIsACommandSinkSetting() throws {
        let command = "  handler: {type: command, command: [./handle], pass_bot_token: true}\n"
        let config = try parseConfig(document(oauth: minimal, extraSink: command), environment: environment)
        guard case .command(let settings) = config.sinks["handler"] else { Issue.record("not a command sink"); return }
        #expect(settings.passesBotToken)
        let wrong = configError(document(oauth: minimal, extraSink: "  other: {type: stdout, pass_bot_token: true}\n"), environment: environment)
        #expect(wrong?.key.hasSuffix("pass_bot_token") == true)
    }
}
