import Foundation
import Testing
@testable import SockeyeInstallations

/// The merge rule of shared installations, without I/O, and the store applying it.
@Suite("installation replica: the merge rule")
struct InstallationReplicaMergeTests {
    private let install = StoreFixture.workspaceInstall("T1")

    private func active(_ generation: Int = 1, at time: Int64) -> ReplicatedInstallation {
        .active(StoreFixture.workspaceInstall("T1", generation: generation), updatedAt: time)
    }

    private func revoked(at time: Int64, _ reason: String = "app_uninstalled") -> ReplicatedInstallation {
        .revoked(id: "T1", reason: reason, updatedAt: time)
    }

    @Test("the record changed last wins; a record never supersedes itself")
    func newerWins() {
        #expect(active(2, at: 200).supersedes(active(1, at: 100)))
        #expect(!active(1, at: 100).supersedes(active(2, at: 200)))
        #expect(!active(1, at: 100).supersedes(active(1, at: 100)))
        #expect(!revoked(at: 100).supersedes(revoked(at: 100)))
        // A stale install never overwrites a newer one, whatever its tokens.
        #expect(!active(9, at: 99).supersedes(active(1, at: 100)))
    }

    @Test("a revocation is never undone by an older or same-second install; a later re-install undoes it")
    func revocationAndReinstall() {
        #expect(revoked(at: 100).supersedes(active(5, at: 99)))
        #expect(!active(5, at: 99).supersedes(revoked(at: 100)))
        // A tie: the revocation wins, from either side.
        #expect(revoked(at: 100).supersedes(active(5, at: 100)))
        #expect(!active(5, at: 100).supersedes(revoked(at: 100)))
        // A re-install after the revocation stands.
        #expect(active(6, at: 101).supersedes(revoked(at: 100)))
    }

    @Test("a tie of time and state is broken the same way on every node: exactly one of two different records wins")
    func tieBreak() {
        let a = active(1, at: 100)
        let b = active(2, at: 100)
        #expect(a.supersedes(b) != b.supersedes(a))
        let x = revoked(at: 100, "app_uninstalled")
        let y = revoked(at: 100, "tokens_revoked")
        #expect(x.supersedes(y) != y.supersedes(x))
        // The install time is not part of it (each store keeps the first one it knew).
        var c = a
        c.installation?.installedAt -= 1000
        #expect(!c.supersedes(a) && !a.supersedes(c))
    }

    @Test("decisions against the local record: install, update tokens in place, revoke, keep")
    func decisions() {
        let rotated = StoreFixture.workspaceInstall("T1", generation: 2)
        #expect(ReplicaMerge.decide(local: nil, incoming: active(1, at: 100)) == .install(active(1, at: 100).installation!))
        #expect(ReplicaMerge.decide(local: nil, incoming: revoked(at: 100)) == .keep)
        #expect(ReplicaMerge.decide(local: active(1, at: 100), incoming: active(2, at: 200)) == .update(active(2, at: 200).installation!))
        #expect(rotated.bot?.token != install.bot?.token)
        #expect(ReplicaMerge.decide(local: active(2, at: 200), incoming: active(1, at: 100)) == .keep)
        #expect(ReplicaMerge.decide(local: active(1, at: 100), incoming: revoked(at: 150)) == .revoke(reason: "app_uninstalled", at: 150))
        #expect(ReplicaMerge.decide(local: revoked(at: 150), incoming: active(1, at: 100)) == .keep)
        #expect(ReplicaMerge.decide(local: revoked(at: 150), incoming: active(2, at: 150)) == .keep)
        #expect(ReplicaMerge.decide(local: revoked(at: 150), incoming: active(2, at: 151)) == .install(active(2, at: 151).installation!))
        // A re-install with another installer (or the user token dropped) is stored anew.
        var other = StoreFixture.workspaceInstall("T1", generation: 3)
        other.installerUserID = "Uother"
        let incoming = ReplicatedInstallation.active(other, updatedAt: 300)
        #expect(ReplicaMerge.decide(local: active(1, at: 100), incoming: incoming) == .install(incoming.installation!))
    }

    @Test("a record's description names no token")
    func descriptionHasNoToken() {
        let text = "\(active(1, at: 100))"
        for secret in StoreFixture.secrets(of: install) { #expect(!text.contains(secret)) }
    }
}

@Suite("installation replica: the store applying shared records")
struct InstallationStoreApplyTests {
    private func store() throws -> InstallationStore {
        try InstallationStore(path: StoreFixture.temporaryDirectory() + "/installations.db", clientID: StoreFixture.clientID)
    }

    @Test("an unknown installation is stored with the record's time; a newer rotation replaces its tokens; a stale one does not")
    func installAndRotate() throws {
        let store = try store()
        defer { store.close() }
        let first = ReplicatedInstallation.active(StoreFixture.workspaceInstall("T1"), updatedAt: 1_700_000_100)
        #expect(try store.apply(first) == .installed)
        #expect(try store.replicatedRecord(id: "T1") == first)
        #expect(try store.apply(first) == .kept)
        let rotated = ReplicatedInstallation.active(StoreFixture.workspaceInstall("T1", generation: 2), updatedAt: 1_700_000_200)
        #expect(try store.apply(rotated) == .updated)
        #expect(try store.installation(id: "T1")?.bot?.token == "xoxe.xoxb-1-bot-T1-2")
        #expect(try store.installation(id: "T1")?.updatedAt == 1_700_000_200)
        #expect(try store.apply(first) == .kept)
        #expect(try store.installation(id: "T1")?.bot?.refreshToken == "xoxe-1-botrefresh-T1-2")
    }

    @Test("a revocation deletes the tokens; an older install does not bring them back; a later re-install does")
    func revokeAndReinstall() throws {
        let store = try store()
        defer { store.close() }
        try store.save(StoreFixture.workspaceInstall("T1"), now: 1_700_000_100)
        #expect(try store.apply(.revoked(id: "T1", reason: "app_uninstalled", updatedAt: 1_700_000_150)) == .revoked)
        #expect(try store.installation(id: "T1") == nil)
        #expect(try store.summary(id: "T1")?.reason == "app_uninstalled")
        #expect(try StoreFixture.columnsContaining("xoxe.xoxb-1-bot-T1-1", path: store.path).isEmpty)
        #expect(try store.apply(.active(StoreFixture.workspaceInstall("T1"), updatedAt: 1_700_000_150)) == .kept)
        #expect(try store.apply(.active(StoreFixture.workspaceInstall("T1"), updatedAt: 1_700_000_140)) == .kept)
        #expect(try store.installation(id: "T1") == nil)
        #expect(try store.apply(.active(StoreFixture.workspaceInstall("T1", generation: 3), updatedAt: 1_700_000_160)) == .installed)
        #expect(try store.installation(id: "T1")?.bot?.token == "xoxe.xoxb-1-bot-T1-3")
        #expect(try store.replicatedRecord(id: "T1")?.updatedAt == 1_700_000_160)
    }

    @Test("a local change newer than the shared record stands; a revocation of an installation never seen changes nothing")
    func localNewerStands() throws {
        let store = try store()
        defer { store.close() }
        try store.save(StoreFixture.workspaceInstall("T1", generation: 5), now: 1_700_000_300)
        #expect(try store.apply(.active(StoreFixture.workspaceInstall("T1", generation: 4), updatedAt: 1_700_000_200)) == .kept)
        #expect(try store.apply(.revoked(id: "T1", reason: "old", updatedAt: 1_700_000_250)) == .kept)
        #expect(try store.installation(id: "T1")?.bot?.token == "xoxe.xoxb-1-bot-T1-5")
        #expect(try store.apply(.revoked(id: "T9", reason: "app_uninstalled", updatedAt: 1_700_000_250)) == .kept)
        #expect(try store.replicatedRecord(id: "T9") == nil)
        #expect(try store.replicatedRecords().map(\.id) == ["T1"])
    }

    @Test("an org-wide install is applied under its enterprise id")
    func orgWide() throws {
        let store = try store()
        defer { store.close() }
        let record = ReplicatedInstallation.active(StoreFixture.orgWideInstall("E1"), updatedAt: 1_700_000_100)
        #expect(try store.apply(record) == .installed)
        #expect(try store.find(enterpriseID: "E1", teamID: "T5", isEnterpriseInstall: false)?.id == "E1")
        #expect(try store.apply(.revoked(id: "E1", reason: "app_uninstalled", updatedAt: 1_700_000_200)) == .revoked)
        #expect(try store.replicatedRecord(id: "E1") == .revoked(id: "E1", reason: "app_uninstalled", updatedAt: 1_700_000_200))
    }
}
