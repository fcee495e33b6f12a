import SockeyeSinkKit
import Testing
@testable import SockeyeInstallations

/// What Slack's lifecycle events ask of the store, decided from the event alone.
@Suite struct InstallationLifecycleTests {
    let installations: [String: Installation] = [
        "T1": Installation(appID: "A1", teamID: "T1", bot: BotCredentials(token: "xoxb-1", botID: "B1", botUserID: "UB1", scopes: []),
                           installerUserID: "U9", user: UserCredentials(token: "xoxp-9", scopes: []), installedAt: 1),
        "T2": Installation(appID: "A1", teamID: "T2", bot: nil, installerUserID: "U8", user: UserCredentials(token: "xoxp-8", scopes: []),
                           tokenType: "user", installedAt: 1),
    ]

    func record(_ event: String, team: String, directory: InstallationDirectory) -> EventRecord {
        let payload = #"{"team_id":"\#(team)","event":\#(event),"authorizations":[{"team_id":"\#(team)","is_enterprise_install":false}]}"#
        let type = event.split(separator: "\"")[3]
        let parts = EventRecord.Parts(envelopeType: "events_api", envelopeID: "e", eventType: String(type), payloadType: "event_callback",
                                      team: team, eventID: "Ev1", retryAttempt: 0, retryReason: nil, acceptsResponsePayload: false)
        return Array(payload.utf8).withUnsafeBytes {
            EventRecord(app: "a", delivery: .socketMode, parts: parts, payload: $0, receivedAtMilliseconds: 0, receivedAt: "", authorizer: directory)
        }
    }

    func actions(_ event: String, team: String) -> [InstallationLifecycle.Action] {
        let directory = InstallationDirectory(Array(installations.values))
        return InstallationLifecycle.actions(for: record(event, team: team, directory: directory)) { installations[$0] }
    }

    @Test func anUninstallRevokesTheEventsInstallation() {
        #expect(actions(#"{"type":"app_uninstalled"}"#, team: "T1") == [.revoke(id: "T1", reason: "app_uninstalled")])
        #expect(actions(#"{"type":"app_uninstalled"}"#, team: "T7") == [], "an unknown workspace: nothing to do")
    }

    @Test func revokedTokensRevokeTheBotOrDropUserTokens() {
        #expect(actions(#"{"type":"tokens_revoked","tokens":{"oauth":["U9"],"bot":["UB1"]}}"#, team: "T1")
            == [.revoke(id: "T1", reason: "tokens_revoked")])
        #expect(actions(#"{"type":"tokens_revoked","tokens":{"oauth":["U9","U5"]}}"#, team: "T1")
            == [.revokeUserTokens(id: "T1", userIDs: ["U9", "U5"])])
        #expect(actions(#"{"type":"tokens_revoked","tokens":{"oauth":["U8"]}}"#, team: "T2")
            == [.revoke(id: "T2", reason: "tokens_revoked")], "a user-only installation loses its one token")
        #expect(actions(#"{"type":"tokens_revoked","tokens":{"bot":["U_OTHER"]}}"#, team: "T1") == [])
        #expect(actions(#"{"type":"tokens_revoked","tokens":"garbage"}"#, team: "T1") == [])
    }

    @Test func teamAccessRevokedNamesTheTeams() {
        #expect(actions(#"{"type":"team_access_revoked","team_ids":["T1","T5"]}"#, team: "T1")
            == [.revokeTeams(["T1", "T5"], reason: "team_access_revoked")])
        #expect(actions(#"{"type":"team_access_revoked"}"#, team: "T1") == [])
    }

    @Test func otherEventsAskNothing() {
        #expect(actions(#"{"type":"message","user":"UB1"}"#, team: "T1") == [])
    }
}
