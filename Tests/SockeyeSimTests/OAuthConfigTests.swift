import Foundation
import Testing
@testable import SockeyeSim

@Suite("OAuth: workspaces, organizations and clients from config and scenario files")
struct OAuthConfigTests {
    @Test("the defaults: two workspaces, an organization of three, client 1111.2222 on the first app")
    func defaults() {
        let c = SimConfig()
        #expect(c.workspaces.map(\.id) == ["T0SIM0001", "T0SIM0002", "T0ORG0001", "T0ORG0002", "T0ORG0003"])
        #expect(c.workspaces.prefix(2).map(\.name) == ["Sim Workspace One", "Sim Workspace Two"])
        #expect(c.enterprises == [SimConfig.Enterprise(id: "E0SIMORG1", name: "Sim Org")])
        #expect(c.workspaces(ofEnterprise: "E0SIMORG1").map(\.id) == ["T0ORG0001", "T0ORG0002", "T0ORG0003"])
        #expect(c.apps[0].oauth == SimConfig.OAuthClient(clientID: "1111.2222", clientSecret: "simclientsecret"))
        #expect(c.apps[0].oauth?.tokenLifetimeSeconds == nil && c.apps[0].oauth?.redirectURLs == [])
    }

    @Test("a scenario sets workspaces, the client and its rotation, and its steps inject per team and uninstall")
    func scenario() throws {
        let s = try Scenario.parse("""
        config:
          workspaces: [{ id: T0ACME001, name: Acme }, { id: T0GRID001, name: Grid A, enterpriseID: E0GRID001 }]
          enterprises: [{ id: E0GRID001, name: Grid }]
          apps:
            - appID: A0SIMAPP01
              appTokens: [xapp-1-A0SIMAPP01-1-simsecret]
              scopes: [connections:write]
              oauth: { clientID: "42.43", clientSecret: s3cret, tokenLifetimeSeconds: 0, redirectURLs: ["http://127.0.0.1:9/cb"] }
        steps:
          - at: 0
            teamInject: { team: T0ACME001, kind: bot_message, count: 2 }
          - at: 0.05
            uninstall: { installation: T0ACME001 }
        """)
        let acme = try #require(s.config.workspace("T0ACME001"))
        #expect(acme.domain == "acme" && acme.userID == "U0ACME001" && acme.enterpriseID == nil)
        #expect(s.config.workspace("T0GRID001")?.enterpriseID == "E0GRID001")
        let client = try #require(s.config.apps[0].oauth)
        #expect(client.clientID == "42.43" && client.effectiveTokenLifetime == 1)
        #expect(s.steps.map { $0.teamInject?.count ?? 0 } == [2, 0])

        var o = SimServer.Options()
        o.config = s.config
        let server = try SimServer(o)
        defer { server.stop() }
        let flow = OAuthFlow(port: server.port)
        let location = try #require(try flow.get("/oauth/v2/authorize", [("client_id", "42.43"), ("scope", "chat:write"),
                                                                        ("sim_decision", "approve"), ("sim_workspace", "T0ACME001")])
                                        .headers["location"])
        #expect(location.hasPrefix("http://127.0.0.1:9/cb?code="))
        let credentials = Data("42.43:s3cret".utf8).base64EncodedString()
        let j = try flow.post("/api/oauth.v2.access", [("code", OAuthFlow.query(location)["code"] ?? "")],
                              headers: ["Authorization": "Basic \(credentials)"]).json
        #expect(j["expires_in"] as? Int == 1)
        #expect((j["team"] as? [String: Any])?["name"] as? String == "Acme")
        var log: [String] = []
        server.run(s) { log.append($0) }
        #expect(!log.contains { $0.contains("failed") })
        let inst = try #require(server.installations().first)
        #expect(inst.revoked && inst.endedBy == "uninstall")
        let r = server.report()
        #expect(r.oauth?.clients.first?.clientID == "42.43")
        #expect(r.queued >= 4) // two bot messages, tokens_revoked, app_uninstalled: no connection, so queued
        #expect(throws: SimError.self) { _ = try Scenario.parse("steps: [{ at: 0, uninstall: { installation: T1, app: 3 } }]") }
    }
}
