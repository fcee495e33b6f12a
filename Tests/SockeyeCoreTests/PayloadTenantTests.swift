import SockeyeCore
import Testing

/// Which workspace and org a payload names, by payload shape, in Bolt's order of preference.
@Suite struct PayloadTenantTests {
    struct Read: Equatable {
        var enterprise: String?
        var team: String?
        var orgWide: Bool
        var botUser: String?
    }

    func read(_ json: String) throws -> Read {
        let bytes = Array(json.utf8)
        return try bytes.withUnsafeBytes { buffer in
            let tenant = try PayloadFields.read(buffer).tenant
            func text(_ view: ByteView) -> String? { view.isPresent ? String(decoding: view.bytes(in: buffer), as: UTF8.self) : nil }
            return Read(enterprise: text(tenant.enterpriseID), team: text(tenant.teamID), orgWide: tenant.isEnterpriseInstall,
                        botUser: text(tenant.authorizationUserID))
        }
    }

    @Test func anEventIsAuthorizedByItsFirstAuthorization() throws {
        let event = #"{"team_id":"T9","enterprise_id":"E9","event":{"type":"message","team":"T8"},"#
            + #""authorizations":[{"enterprise_id":"E1","team_id":"T1","user_id":"U0BOT","is_bot":true,"is_enterprise_install":true},"#
            + #"{"enterprise_id":null,"team_id":"T2","user_id":"U2","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":true}"#
        #expect(try read(event) == Read(enterprise: "E1", team: "T1", orgWide: true, botUser: "U0BOT"))
    }

    @Test func anAuthorizationWithoutAnOrgHidesTheTopLevelOne() throws {
        let event = #"{"team_id":"T9","enterprise_id":"E9","authorizations":[{"enterprise_id":null,"team_id":"T1","user_id":"U1","is_enterprise_install":false}]}"#
        #expect(try read(event) == Read(enterprise: nil, team: "T1", orgWide: false, botUser: "U1"))
    }

    @Test func anEventWithoutAuthorizationsUsesTheTopLevelIds() throws {
        #expect(try read(#"{"team_id":"T3","enterprise_id":"E3","authorizations":[],"event":{}}"#)
            == Read(enterprise: "E3", team: "T3", orgWide: false, botUser: nil))
    }

    @Test func aSlashCommandSendsTheFlagAsAString() throws {
        #expect(try read(#"{"command":"/x","team_id":"T4","enterprise_id":"E4","is_enterprise_install":"true"}"#)
            == Read(enterprise: "E4", team: "T4", orgWide: true, botUser: nil))
        #expect(try read(#"{"command":"/x","team_id":"T4","is_enterprise_install":"false"}"#)
            == Read(enterprise: nil, team: "T4", orgWide: false, botUser: nil))
    }

    @Test func anOrgWideInteractionFindsTheTeamInTheUser() throws {
        let payload = #"{"type":"block_actions","team":null,"enterprise":{"id":"E5","name":"Org"},"is_enterprise_install":true,"#
            + #""user":{"id":"U5","team_id":"T5"},"channel":{"id":"C5"}}"#
        #expect(try read(payload) == Read(enterprise: "E5", team: "T5", orgWide: true, botUser: nil))
    }

    @Test func aModalOpenedInAnotherWorkspaceNamesTheInstallingOne() throws {
        let payload = #"{"type":"view_submission","team":{"id":"T6","domain":"x","enterprise_id":"E6"},"#
            + #""user":{"id":"U6","team_id":"T6"},"view":{"team_id":"T6","app_installed_team_id":"T7"}}"#
        #expect(try read(payload) == Read(enterprise: "E6", team: "T7", orgWide: false, botUser: nil))
    }

    @Test func malformedAuthorizationsAreAScanError() throws {
        #expect(throws: ScanError.self) { try read(#"{"authorizations":[{"team_id":"T1"},}"#) }
        #expect(throws: ScanError.self) { try read(#"{"authorizations":[{"team_id":"T1"}"#) }
        #expect(try read(#"{"authorizations":{"team_id":"T1"}}"#) == Read(enterprise: nil, team: nil, orgWide: false, botUser: nil))
    }
}
