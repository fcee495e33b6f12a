import Foundation
import Testing
@testable import SockeyeInstallations

/// Files for checking the layout with python slack_sdk by hand (or from a Python test): run
/// with `SOCKEYE_INSTALLATIONS_INTEROP_DIR=<folder>` and the test leaves `sockeye.db` there,
/// with a workspace install of T1 and an org-wide install of E1 (client id `1111.2222`,
/// bot and user tokens expiring 12 hours from now), for `SQLite3InstallationStore(database=…, client_id=…)` to
/// read. When the folder holds `python.db` (written by slack_sdk's `save()` with that client
/// id), the test reads it and prints what it found, tokens included: they are a test's.
/// Without the variable the test is skipped.
@Suite("the installation store's files for slack_sdk")
struct InstallationStoreInteropFiles {
    static let folder = ProcessInfo.processInfo.environment["SOCKEYE_INSTALLATIONS_INTEROP_DIR"]

    @Test("writes sockeye.db; reads python.db", .enabled(if: folder != nil))
    func interopFiles() throws {
        let folder = try #require(Self.folder)
        let path = folder + "/sockeye.db"
        try? FileManager.default.removeItem(atPath: path)
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        // Installed now: the tokens expire in 12 hours, so a Bolt app does not try to rotate them.
        let now = Int64(Date().timeIntervalSince1970)
        try store.save(StoreFixture.workspaceInstall("T1", installedAt: now), now: now)
        try store.save(StoreFixture.orgWideInstall("E1", installedAt: now), now: now)
        store.close()

        let python = folder + "/python.db"
        guard FileManager.default.fileExists(atPath: python) else { return }
        let reader = try InstallationStore(path: python, clientID: StoreFixture.clientID, options: .init(readOnly: true))
        for installation in try reader.activeInstallations() {
            print("python.db: \(installation)")
            print("python.db: \(installation.id) bot_token=\(installation.bot?.token ?? "-") bot_refresh=\(installation.bot?.refreshToken ?? "-") "
                  + "bot_expires=\(installation.bot?.expiresAt.map(String.init) ?? "-") user_token=\(installation.user?.token ?? "-") "
                  + "user_refresh=\(installation.user?.refreshToken ?? "-") user_expires=\(installation.user?.expiresAt.map(String.init) ?? "-") "
                  + "installed_at=\(installation.installedAt)")
        }
        let found = try reader.find(enterpriseID: "E1", teamID: nil, isEnterpriseInstall: true)
        print("python.db: find(E1, org-wide) -> \(found.map(\.id) ?? "nil"); find(T1) -> "
              + "\(try reader.find(enterpriseID: nil, teamID: "T1", isEnterpriseInstall: false).map(\.id) ?? "nil")")
        reader.close()
    }
}
