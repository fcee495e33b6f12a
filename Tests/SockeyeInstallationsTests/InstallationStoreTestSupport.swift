import Foundation
import GRDB
@testable import SockeyeInstallations

/// Files, installations and raw looks at a store file for the installation store's tests.
enum StoreFixture {
    /// A fresh temporary directory for a test's files.
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "sockeye-installations-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The permission bits of the file at `path`, or nil when it does not exist.
    static func permissionBits(_ path: String) -> mode_t? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return info.st_mode & 0o777
    }

    static let clientID = "1111.2222"

    /// A workspace install of team `team` (tokens named after the team and `generation`, so a
    /// test can look for them), with expiring bot and user tokens.
    static func workspaceInstall(_ team: String = "T1", enterprise: String? = nil, generation: Int = 1, installedAt: Int64 = 1_700_000_000) -> Installation {
        Installation(appID: "A1", enterpriseID: enterprise, enterpriseName: enterprise.map { "Org \($0)" }, teamID: team, teamName: "Team \(team)",
                     bot: BotCredentials(token: "xoxe.xoxb-1-bot-\(team)-\(generation)", botID: "B\(team)", botUserID: "U\(team)bot",
                                         scopes: ["chat:write", "commands"], refreshToken: "xoxe-1-botrefresh-\(team)-\(generation)",
                                         expiresAt: installedAt + 43_200),
                     installerUserID: "U\(team)installer",
                     user: UserCredentials(token: "xoxe.xoxp-1-user-\(team)-\(generation)", scopes: ["search:read"],
                                           refreshToken: "xoxe-1-userrefresh-\(team)-\(generation)", expiresAt: installedAt + 43_000),
                     tokenType: "bot", installedAt: installedAt)
    }

    /// An org-wide install of enterprise `enterprise` (no team), with an expiring bot token and
    /// a user token.
    static func orgWideInstall(_ enterprise: String = "E1", generation: Int = 1, installedAt: Int64 = 1_700_000_000) -> Installation {
        Installation(appID: "A1", enterpriseID: enterprise, enterpriseName: "Org \(enterprise)", enterpriseURL: "https://org.enterprise.slack.com/",
                     teamID: nil, isEnterpriseInstall: true,
                     bot: BotCredentials(token: "xoxe.xoxb-1-bot-\(enterprise)-\(generation)", botID: "B\(enterprise)", botUserID: "U\(enterprise)bot",
                                         scopes: ["chat:write"], refreshToken: "xoxe-1-botrefresh-\(enterprise)-\(generation)",
                                         expiresAt: installedAt + 43_200),
                     installerUserID: "U\(enterprise)installer",
                     user: UserCredentials(token: "xoxe.xoxp-1-user-\(enterprise)-\(generation)", scopes: ["admin"],
                                           refreshToken: "xoxe-1-userrefresh-\(enterprise)-\(generation)", expiresAt: installedAt + 43_000),
                     tokenType: "bot", installedAt: installedAt)
    }

    /// Every token and refresh token of `installation`.
    static func secrets(of installation: Installation) -> [String] {
        [installation.bot?.token, installation.bot?.refreshToken, installation.user?.token, installation.user?.refreshToken].compactMap { $0 }
    }

    /// The values of every column of every table of the file that contain `text`, as
    /// "table.column" (raw SQL, as any reader of the file would look).
    static func columnsContaining(_ text: String, path: String) throws -> [String] {
        let reader = try DatabaseQueue(path: path)
        defer { try? reader.close() }
        return try reader.read { db in
            var found: [String] = []
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            for table in tables {
                for column in try db.columns(in: table).map(\.name) {
                    let hits = try Int.fetchOne(db, sql: "SELECT count(*) FROM \"\(table)\" WHERE instr(CAST(\"\(column)\" AS TEXT), ?) > 0",
                                                arguments: [text]) ?? 0
                    if hits > 0 { found.append("\(table).\(column)") }
                }
            }
            return found
        }
    }

    /// Whether the bytes of the file at `path` contain `text`.
    static func fileContains(_ path: String, _ text: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path) else { return false }
        return data.range(of: Data(text.utf8)) != nil
    }
}
