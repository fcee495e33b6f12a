import Sockeye
import SockeyeInstallations
import SockeyeSim
import Testing

@testable import SockeyeDaemon

/// The installations' health check: a token Slack no longer takes revokes its installation
/// (and only it); a token that works changes nothing.
@Suite("installation health check, against the simulator", .serialized)
struct InstallationHealthTests {
    let helpers = TokenRotationDaemonTests()

    @Test func aDeadTokenRevokesItsInstallationOnly() async throws {
        let sim = try helpers.sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let folder = temporaryDirectory()
        let installations = try AppInstallations(app: helpers.app(sim, store: folder + "/installations.db", name: "health"),
                                                 runtime: runtime, logger: quietLogger, environment: [:])
        let dead = try await helpers.install(installations, sim, runtime: runtime, workspace: "T0SIM0002")
        _ = try await helpers.install(installations, sim, runtime: runtime, workspace: "T0SIM0001")
        // Slack kills the token without telling the app (as when a workspace is deleted).
        let answer = try await runtime.callWebAPI(method: "auth.revoke", token: try #require(dead.bot?.token), apiBaseURL: sim.apiBaseURL,
                                                  environment: [:])
        #expect(answer.status == 200)
        await installations.checkHealth(of: "T0SIM0001")
        #expect(try installations.store.installation(id: "T0SIM0001") != nil)
        await installations.checkHealth(of: "T0SIM0002")
        #expect(try installations.store.installation(id: "T0SIM0002") == nil)
        let summary = try #require(try installations.store.summary(id: "T0SIM0002"))
        #expect(summary.state == .revoked)
        #expect(["token_revoked", "invalid_auth"].contains(summary.reason ?? ""))
        #expect(installations.directory.isActive("T0SIM0001") && !installations.directory.isActive("T0SIM0002"))
        // No further call uses the dead token.
        let before = sim.installations().first { $0.id == "T0SIM0002" }?.revokedTokenCalls.values.reduce(0, +) ?? -1
        await installations.checkHealth(of: "T0SIM0002")
        let after = sim.installations().first { $0.id == "T0SIM0002" }?.revokedTokenCalls.values.reduce(0, +) ?? -1
        #expect(before == after)
    }
}
