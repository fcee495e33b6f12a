import SockeyeInstallations
import SockeyeSinkKit
import Testing

@testable import SockeyeDaemon

/// An app installed by OAuth: events of a workspace with no installation are acked and
/// counted, never delivered; each installation's own bot is filtered; lines name the
/// installation, never a token.
@Suite struct BatchPlannerAuthorizationTests {
    let directory = InstallationDirectory([
        Installation(appID: "A1", teamID: "T1", bot: BotCredentials(token: "xoxb-secret-1", botID: "B1", botUserID: "UB1", scopes: []),
                     installerUserID: "U0", installedAt: 1),
        Installation(appID: "A1", enterpriseID: "E1", teamID: nil, isEnterpriseInstall: true,
                     bot: BotCredentials(token: "xoxb-secret-2", botID: "B2", botUserID: "UB2", scopes: []), installerUserID: "U0", installedAt: 1),
    ])

    func record(_ id: String, team: String, enterprise: String? = nil, orgWide: Bool = false, user: String = "U5", botID: String? = nil) -> EventRecord {
        let enterpriseJSON = enterprise.map { "\"\($0)\"" } ?? "null"
        let bot = botID.map { #","bot_id":"\#($0)""# } ?? ""
        let payload = #"{"team_id":"\#(team)","enterprise_id":\#(enterpriseJSON),"event":{"type":"message","user":"\#(user)","channel":"C1"\#(bot)},"#
            + #""authorizations":[{"enterprise_id":\#(enterpriseJSON),"team_id":"\#(team)","user_id":"UB","is_bot":true,"is_enterprise_install":\#(orgWide)}]}"#
        let parts = EventRecord.Parts(envelopeType: "events_api", envelopeID: id, eventType: "message", payloadType: "event_callback",
                                      team: team, eventID: "Ev\(id)", retryAttempt: 0, retryReason: nil, acceptsResponsePayload: false)
        return Array(payload.utf8).withUnsafeBytes {
            EventRecord(app: "app", delivery: .socketMode, parts: parts, payload: $0, receivedAtMilliseconds: 0, receivedAt: "",
                        authorizer: directory)
        }
    }

    @Test func unauthorizedEventsAreAckedAndCountedOwnBotsDropped() {
        let planner = BatchPlanner(router: Router(routes: [Route(sinks: ["all"])]), claims: nil, acksOnReceipt: false,
                                   filtersInstallationBots: true)
        let records = [
            record("e0", team: "T1"),
            record("e1", team: "T9"),
            record("e2", team: "T3", enterprise: "E1", orgWide: true),
            record("e3", team: "T1", user: "UB1"),
            record("e4", team: "T3", enterprise: "E1", orgWide: true, botID: "B2"),
            record("e5", team: "T1", user: "UB2"),
        ]
        let plan = planner.plan(records, own: nil, now: 0)
        #expect(plan.parts == [BatchPlanner.SinkPart(sink: "all", indices: [0, 2, 5])])
        #expect(plan.counts.unauthorized == 1)
        #expect(plan.counts.ownMessages == 2)
        let settlement = planner.settle(plan, outcomes: [.accepted])
        #expect(settlement.answers.allSatisfy { $0 == .ack(response: nil) })
    }

    @Test func theLineNamesTheInstallationNeverAToken() throws {
        let known = String(decoding: record("e0", team: "T3", enterprise: "E1", orgWide: true).line, as: UTF8.self)
        #expect(known.contains(#""team":"T3","installation":"E1","#))
        #expect(!known.contains("xoxb"))
        let unknown = String(decoding: record("e1", team: "T9").line, as: UTF8.self)
        #expect(unknown.contains(#""installation":null"#))
        let back = try EventRecord(line: record("e2", team: "T1").line)
        #expect(back.authorization?.installationID == "T1")
        #expect(back.needsAuthorization)
    }
}
