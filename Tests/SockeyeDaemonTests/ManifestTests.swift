import SockeyeDaemon
import SockeyeSinkKit
import Testing
import Yams

@Suite("sockeyed manifest")
struct ManifestTests {
    @Test("routes become bot events with their scopes, slash commands and interactivity, in valid YAML")
    func fromRoutes() throws {
        var app = AppSettings(name: "deploy-bot", appToken: "xapp-1-A1-1-s")
        app.routes = [
            Route(match: RouteMatch(envelopeTypes: ["events_api"], eventTypes: ["message", "app_mention", "workflow_step_execute"]), sinks: ["stdout"]),
            Route(match: RouteMatch(envelopeTypes: ["slash_commands"], eventTypes: ["/deploy"]), sinks: ["stdout"]),
            Route(match: RouteMatch(envelopeTypes: ["interactive"]), sinks: ["stdout"]),
        ]
        let text = Manifest.yaml(for: app)
        let manifest = try #require(try Yams.load(yaml: text) as? [String: Any])
        let settings = try #require(manifest["settings"] as? [String: Any])
        #expect(settings["socket_mode_enabled"] as? Bool == true)
        #expect((settings["interactivity"] as? [String: Any])?["is_enabled"] as? Bool == true)
        let events = try #require((settings["event_subscriptions"] as? [String: Any])?["bot_events"] as? [String])
        #expect(events.contains("app_mention") && events.contains("message.channels") && events.contains("message.im"))
        #expect(events.contains("workflow_step_execute"))  // unknown: listed, with a comment about its scope
        let scopes = try #require(((manifest["oauth_config"] as? [String: Any])?["scopes"] as? [String: Any])?["bot"] as? [String])
        #expect(Set(scopes) == ["app_mentions:read", "channels:history", "groups:history", "im:history", "mpim:history", "commands"])
        let commands = try #require((manifest["features"] as? [String: Any])?["slash_commands"] as? [[String: Any]])
        #expect(commands.first?["command"] as? String == "/deploy")
    }

    @Test("an app whose routes take only interactive payloads subscribes to no events")
    func interactiveOnly() throws {
        var app = AppSettings(name: "buttons", appToken: "xapp-1-A1-1-s")
        app.routes = [Route(match: RouteMatch(envelopeTypes: ["interactive"]), sinks: ["stdout"])]
        let manifest = try #require(try Yams.load(yaml: Manifest.yaml(for: app)) as? [String: Any])
        let settings = try #require(manifest["settings"] as? [String: Any])
        #expect(settings["event_subscriptions"] == nil)
        #expect(((manifest["oauth_config"] as? [String: Any])?["scopes"] as? [String: Any])?["bot"] as? [String] == [])
    }

    @Test("an app installed by OAuth gets its redirect URL, its scopes and org-wide deployment")
    func distributed() throws {
        var app = AppSettings(name: "multi", appToken: "xapp-1-A1-1-s")
        app.routes = [Route(match: RouteMatch(envelopeTypes: ["events_api"], eventTypes: ["app_mention"]), sinks: ["stdout"])]
        var oauth = OAuthSettings(clientID: "1.2", clientSecret: "s", scopes: ["chat:write"], redirectURL: "https://x.example/slack/oauth_redirect",
                                  storePath: "/tmp/i.db")
        oauth.userScopes = ["search:read"]
        app.oauth = oauth
        let manifest = try #require(try Yams.load(yaml: Manifest.yaml(for: app)) as? [String: Any])
        let config = try #require(manifest["oauth_config"] as? [String: Any])
        #expect(config["redirect_urls"] as? [String] == ["https://x.example/slack/oauth_redirect"])
        let scopes = try #require(config["scopes"] as? [String: Any])
        #expect(Set(scopes["bot"] as? [String] ?? []) == ["app_mentions:read", "chat:write"])
        #expect(scopes["user"] as? [String] == ["search:read"])
        let settings = try #require(manifest["settings"] as? [String: Any])
        #expect(settings["org_deploy_enabled"] as? Bool == true)
        #expect(settings["token_rotation_enabled"] as? Bool == false)
    }
}
