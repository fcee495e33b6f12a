import Testing
@testable import SockeyeInstallations

@Suite struct InstallationTests {
    @Test func anOrgWideInstallIsKeyedByItsEnterprise() {
        #expect(Installation.id(enterpriseID: "E1", teamID: nil, isEnterpriseInstall: true) == "E1")
        #expect(Installation.id(enterpriseID: "E1", teamID: "T1", isEnterpriseInstall: false) == "T1")
        #expect(Installation.id(enterpriseID: nil, teamID: "T2", isEnterpriseInstall: false) == "T2")
    }

    @Test func theEarliestExpiryIsTheSoonerOfTheTwoTokens() {
        var installation = Installation(appID: "A1", teamID: "T1",
                                        bot: BotCredentials(token: "xoxe.xoxb-1-a", botID: "B1", botUserID: "U1", scopes: [], expiresAt: 200),
                                        installerUserID: "U9", user: UserCredentials(token: "xoxe.xoxp-1-b", scopes: [], expiresAt: 100),
                                        installedAt: 1)
        #expect(installation.earliestExpiry == 100)
        installation.user = nil
        #expect(installation.earliestExpiry == 200)
        installation.bot?.expiresAt = nil
        #expect(installation.earliestExpiry == nil)
    }
}
