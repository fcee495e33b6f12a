import Foundation
import GRDB
import Testing
@testable import SockeyeInstallations

@Suite("the installation store")
struct InstallationStoreTests {
    @Test("a workspace install: saved, found by team, read back whole; slack_sdk's columns hold what slack_sdk writes")
    func workspaceRoundTrip() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        let installation = StoreFixture.workspaceInstall("T1")
        let saved = try store.save(installation, now: 1_700_000_100)
        var expected = installation
        expected.updatedAt = 1_700_000_100
        #expect(saved == expected)
        #expect(try store.find(enterpriseID: nil, teamID: "T1", isEnterpriseInstall: false) == expected)
        #expect(try store.installation(id: "T1") == expected)
        #expect(try store.activeInstallations() == [expected])
        #expect(try store.find(enterpriseID: nil, teamID: "T2", isEnterpriseInstall: false) == nil)
        #expect(try store.installation(id: "T2") == nil)
        store.close()

        let reader = try DatabaseQueue(path: path)
        let row = try #require(try reader.read { db in
            try Row.fetchOne(db, sql: """
                SELECT client_id, enterprise_id, team_id, bot_scopes, user_scopes, is_enterprise_install, installed_at,
                       typeof(bot_token_expires_at) AS bot_type, bot_token_expires_at, user_token_expires_at, user_id, token_type
                FROM slack_installations
                """)
        })
        #expect(row["client_id"] as String == StoreFixture.clientID)
        #expect(row["enterprise_id"] as String == "")
        #expect(row["team_id"] as String == "T1")
        #expect(row["bot_scopes"] as String == "chat:write,commands")
        #expect(row["user_scopes"] as String == "search:read")
        #expect(row["is_enterprise_install"] as Int == 0)
        // current_timestamp's form, in UTC: the moment the tokens were written.
        #expect(row["installed_at"] as String == "2023-11-14 22:15:00")
        #expect(row["bot_type"] as String == "integer")
        #expect(row["bot_token_expires_at"] as Int64 == 1_700_043_200)
        #expect(row["user_token_expires_at"] as Int64 == 1_700_043_000)
        #expect(row["user_id"] as String == "UT1installer")
        let bots = try reader.read { db in
            try Row.fetchAll(db, sql: "SELECT client_id, enterprise_id, team_id, bot_token, bot_user_id, installed_at FROM slack_bots")
        }
        #expect(bots.count == 1)
        #expect(bots.first?["team_id"] as String? == "T1")
        #expect(bots.first?["bot_token"] as String? == "xoxe.xoxb-1-bot-T1-1")
        let facts = try reader.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int32.fetchOne(db, sql: "PRAGMA application_id"))
        }
        #expect(facts.0 == "wal" && facts.1 == 0)
    }

    @Test("an org-wide install: keyed by enterprise with team '', found for any workspace of the org")
    func orgWideRoundTrip() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        let org = try store.save(StoreFixture.orgWideInstall("E1"), now: 1_700_000_000)
        #expect(org.id == "E1")
        #expect(try store.find(enterpriseID: "E1", teamID: nil, isEnterpriseInstall: true) == org)
        #expect(try store.find(enterpriseID: "E1", teamID: "T7", isEnterpriseInstall: true) == org)
        // A workspace of the org without its own install: the org-wide one covers it.
        #expect(try store.find(enterpriseID: "E1", teamID: "T7", isEnterpriseInstall: false) == org)
        #expect(try store.find(enterpriseID: nil, teamID: "T7", isEnterpriseInstall: false) == nil)
        #expect(try store.find(enterpriseID: "E2", teamID: nil, isEnterpriseInstall: true) == nil)
        #expect(try store.installation(id: "E1") == org)

        // A workspace of the same org with its own install is found by its team.
        let workspace = try store.save(StoreFixture.workspaceInstall("T2", enterprise: "E1"), now: 1_700_000_000)
        #expect(try store.find(enterpriseID: "E1", teamID: "T2", isEnterpriseInstall: false) == workspace)
        #expect(try store.find(enterpriseID: "E1", teamID: "T2", isEnterpriseInstall: true) == org)
        #expect(try store.activeInstallations().map(\.id) == ["E1", "T2"])

        let rows = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: "SELECT enterprise_id, team_id, is_enterprise_install FROM slack_installations ORDER BY enterprise_id, team_id")
        }
        #expect(rows.map { "\($0["enterprise_id"] as String)/\($0["team_id"] as String)/\($0["is_enterprise_install"] as Int)" }
                == ["E1//1", "E1/T2/0"])
    }

    @Test("a re-install replaces the tokens (one row per table) and keeps the first install time")
    func reinstall() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        try store.save(StoreFixture.workspaceInstall("T1", generation: 1, installedAt: 1_700_000_000), now: 1_700_000_000)
        let second = StoreFixture.workspaceInstall("T1", generation: 2, installedAt: 1_700_500_000)
        let saved = try store.save(second, now: 1_700_500_000)
        let back = try #require(try store.installation(id: "T1"))
        #expect(back == saved)
        #expect(back.installedAt == 1_700_000_000 && back.updatedAt == 1_700_500_000)
        #expect(back.bot?.token == "xoxe.xoxb-1-bot-T1-2" && back.user?.token == "xoxe.xoxp-1-user-T1-2")
        #expect(try store.summary(id: "T1")?.installedAt == 1_700_000_000)
        let counts = try DatabaseQueue(path: path).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM slack_installations"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM slack_bots"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM sockeye_installations"))
        }
        #expect(counts.0 == 1 && counts.1 == 1 && counts.2 == 1)
        for old in StoreFixture.secrets(of: StoreFixture.workspaceInstall("T1", generation: 1)) {
            #expect(try StoreFixture.columnsContaining(old, path: path).isEmpty)
        }
    }

    @Test("rotation is a compare-and-swap on the refresh token: the second rotation from the same token changes nothing")
    func rotateCompareAndSwap() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        let first = try store.save(StoreFixture.workspaceInstall("T1"), now: 1_700_000_000)
        let newBot = BotCredentials(token: "xoxe.xoxb-1-bot-T1-2", botID: "BT1", botUserID: "UT1bot", scopes: ["chat:write", "commands"],
                                    refreshToken: "xoxe-1-botrefresh-T1-2", expiresAt: 1_700_050_000)
        #expect(try store.rotate(id: "T1", bot: newBot, user: nil, expectedBotRefreshToken: "xoxe-1-botrefresh-T1-1",
                                 expectedUserRefreshToken: nil, now: 1_700_040_000) == .stored)
        let rotated = try #require(try store.installation(id: "T1"))
        #expect(rotated.bot == newBot)
        #expect(rotated.user == first.user)
        #expect(rotated.updatedAt == 1_700_040_000 && rotated.installedAt == first.installedAt)

        // Another process exchanged the same old refresh token: it must not overwrite.
        let late = BotCredentials(token: "xoxe.xoxb-1-bot-T1-late", botID: "BT1", botUserID: "UT1bot", scopes: [],
                                  refreshToken: "xoxe-1-botrefresh-T1-late", expiresAt: 1_700_060_000)
        let result = try store.rotate(id: "T1", bot: late, user: nil, expectedBotRefreshToken: "xoxe-1-botrefresh-T1-1",
                                      expectedUserRefreshToken: nil, now: 1_700_041_000)
        #expect(result == .alreadyRotated(current: rotated))
        #expect(try store.installation(id: "T1") == rotated)
        #expect(try StoreFixture.columnsContaining("xoxe.xoxb-1-bot-T1-late", path: path).isEmpty)

        // The user's pair, rotated on its own.
        let newUser = UserCredentials(token: "xoxe.xoxp-1-user-T1-2", scopes: ["search:read"], refreshToken: "xoxe-1-userrefresh-T1-2",
                                      expiresAt: 1_700_090_000)
        #expect(try store.rotate(id: "T1", bot: nil, user: newUser, expectedBotRefreshToken: nil,
                                 expectedUserRefreshToken: "xoxe-1-userrefresh-T1-1", now: 1_700_042_000) == .stored)
        #expect(try store.installation(id: "T1")?.user == newUser)
        #expect(try store.installation(id: "T1")?.bot == newBot)
        // slack_sdk reads the same pair (one row per table, newest installed_at).
        let slackRows = try DatabaseQueue(path: path).read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.bot_token, i.bot_refresh_token, i.user_token, b.bot_token AS b_token
                FROM slack_installations i, slack_bots b
                """)
        }
        #expect(slackRows.count == 1)
        #expect(slackRows.first?["bot_token"] as String? == newBot.token)
        #expect(slackRows.first?["b_token"] as String? == newBot.token)
        #expect(slackRows.first?["user_token"] as String? == newUser.token)

        #expect(try store.rotate(id: "T9", bot: newBot, user: nil, expectedBotRefreshToken: "x", expectedUserRefreshToken: nil) == .notFound)
        #expect(try store.revoke(id: "T1", reason: "app_uninstalled"))
        #expect(try store.rotate(id: "T1", bot: late, user: nil, expectedBotRefreshToken: newBot.refreshToken,
                                 expectedUserRefreshToken: nil) == .revoked)
        #expect(try store.installation(id: "T1") == nil)
    }

    @Test("two processes rotating from the same refresh token at once: exactly one stores its pair")
    func concurrentRotation() async throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        try InstallationStore(path: path, clientID: StoreFixture.clientID).save(StoreFixture.workspaceInstall("T1"), now: 1_700_000_000)
        // Separate connections, as separate processes would have.
        let stores = try (0..<4).map { _ in try InstallationStore(path: path, clientID: StoreFixture.clientID) }
        let results = try await withThrowingTaskGroup(of: (Int, InstallationStore.RotationResult).self) { group in
            for (index, store) in stores.enumerated() {
                group.addTask {
                    let bot = BotCredentials(token: "xoxe.xoxb-1-bot-T1-node\(index)", botID: "BT1", botUserID: "UT1bot", scopes: [],
                                             refreshToken: "xoxe-1-botrefresh-T1-node\(index)", expiresAt: 1_700_050_000)
                    return (index, try store.rotate(id: "T1", bot: bot, user: nil, expectedBotRefreshToken: "xoxe-1-botrefresh-T1-1",
                                                    expectedUserRefreshToken: nil, now: 1_700_040_000))
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        let winners = results.filter { $0.value == .stored }.map(\.key)
        #expect(winners.count == 1)
        let winner = try #require(winners.first)
        let current = try #require(try stores[0].installation(id: "T1"))
        #expect(current.bot?.token == "xoxe.xoxb-1-bot-T1-node\(winner)")
        for (index, result) in results where index != winner {
            #expect(result == .alreadyRotated(current: current))
        }
        // Each store reads what the others wrote: nothing is cached.
        for store in stores { #expect(try store.installation(id: "T1") == current) }
    }

    @Test("revoke deletes the tokens from every table and file, is idempotent, and a re-install makes it active again")
    func revoke() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        let installation = try store.save(StoreFixture.workspaceInstall("T1"), now: 1_700_000_000)
        try store.save(StoreFixture.workspaceInstall("T2"), now: 1_700_000_000)
        #expect(try store.revoke(id: "T1", reason: "app_uninstalled", now: 1_700_001_000))
        #expect(try store.revoke(id: "T1", reason: "again", now: 1_700_002_000) == false)
        #expect(try store.revoke(id: "T404", reason: "unknown", now: 1_700_002_000) == false)
        #expect(try store.installation(id: "T1") == nil)
        #expect(try store.find(enterpriseID: nil, teamID: "T1", isEnterpriseInstall: false) == nil)
        #expect(try store.activeInstallations().map(\.id) == ["T2"])
        let summary = try #require(try store.summary(id: "T1"))
        #expect(summary.state == .revoked && summary.reason == "app_uninstalled")
        #expect(summary.botUserID == "UT1bot" && summary.teamName == "Team T1")
        #expect(try store.summaries().map(\.id) == ["T2"])
        #expect(try store.summaries(includeRevoked: true).map(\.id) == ["T1", "T2"])
        #expect(try DatabaseQueue(path: path).read { db in
            try Int.fetchOne(db, sql: "SELECT revoked_at FROM sockeye_installations WHERE id = 'T1' AND state = 'revoked'")
        } == 1_700_001_000)

        // No token text is left in any column of any table, nor in the file's bytes.
        for secret in StoreFixture.secrets(of: installation) {
            #expect(try StoreFixture.columnsContaining(secret, path: path).isEmpty, "\(secret)")
            for file in [path, path + "-wal"] {
                #expect(!StoreFixture.fileContains(file, secret), "\(file) still holds a token")
            }
        }
        #expect(try !StoreFixture.columnsContaining("xoxe.xoxb-1-bot-T2-1", path: path).isEmpty)

        let again = try store.save(StoreFixture.workspaceInstall("T1", generation: 3, installedAt: 1_700_100_000), now: 1_700_100_000)
        #expect(try store.installation(id: "T1") == again)
        #expect(again.installedAt == 1_700_100_000)
        let active = try #require(try store.summary(id: "T1"))
        #expect(active.state == .active && active.reason == nil)
        #expect(try DatabaseQueue(path: path).read { db in
            try Row.fetchOne(db, sql: "SELECT state, reason, revoked_at FROM sockeye_installations WHERE id = 'T1'")
        }.map { "\($0["state"] as String)/\($0["reason"] as String? ?? "-")/\($0["revoked_at"] as Int64? ?? -1)" } == "active/-/-1")
    }

    @Test("tokens_revoked for the installer: the user token goes, the bot stays")
    func revokeUserTokens() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        let installation = try store.save(StoreFixture.workspaceInstall("T1"), now: 1_700_000_000)
        #expect(try store.revokeUserTokens(id: "T1", userIDs: ["Usomeoneelse"]) == false)
        #expect(try store.revokeUserTokens(id: "T1", userIDs: ["UT1installer"], now: 1_700_000_500))
        #expect(try store.revokeUserTokens(id: "T1", userIDs: ["UT1installer"], now: 1_700_000_600) == false)
        let back = try #require(try store.installation(id: "T1"))
        #expect(back.user == nil)
        #expect(back.bot == installation.bot)
        #expect(back.updatedAt == 1_700_000_500)
        for secret in [installation.user?.token, installation.user?.refreshToken].compactMap({ $0 }) {
            #expect(try StoreFixture.columnsContaining(secret, path: path).isEmpty)
        }
    }

    @Test("revoked rows are purged once the retention period has passed, not before")
    func purge() throws {
        let store = try InstallationStore(path: StoreFixture.temporaryDirectory() + "/installations.db", clientID: StoreFixture.clientID)
        try store.save(StoreFixture.workspaceInstall("T1"), now: 1_700_000_000)
        try store.save(StoreFixture.workspaceInstall("T2"), now: 1_700_000_000)
        try store.revoke(id: "T1", reason: "app_uninstalled", now: 1_700_001_000)
        #expect(try store.purgeRevoked(olderThan: 86_400, now: 1_700_001_000 + 86_000) == 0)
        #expect(try store.summaries(includeRevoked: true).map(\.id) == ["T1", "T2"])
        #expect(try store.purgeRevoked(olderThan: 86_400, now: 1_700_001_000 + 86_401) == 1)
        #expect(try store.summaries(includeRevoked: true).map(\.id) == ["T2"])
        #expect(try store.summary(id: "T1") == nil)
        // Active installations are never purged.
        #expect(try store.purgeRevoked(olderThan: 0, now: 1_900_000_000) == 0)
        #expect(try store.installation(id: "T2") != nil)
    }

    @Test("a new file and its -wal and -shm are mode 0600; a readable existing file is made 0600, with a warning")
    func fileModes() throws {
        let folder = StoreFixture.temporaryDirectory()
        let path = folder + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        try store.save(StoreFixture.workspaceInstall(), now: 1_700_000_000)
        #expect(store.warnings.isEmpty)
        for file in [path, path + "-wal", path + "-shm"] {
            let bits = StoreFixture.permissionBits(file)
            #expect(bits == 0o600, "\(file): \(bits.map { String($0, radix: 8) } ?? "missing")")
        }
        store.close()

        #expect(chmod(path, 0o644) == 0)
        let reader = try InstallationStore(path: path, clientID: StoreFixture.clientID, options: .init(readOnly: true))
        #expect(reader.warnings.count == 1 && reader.warnings.first?.contains("mode 644") == true)
        #expect(StoreFixture.permissionBits(path) == 0o644)   // read only: said, not changed
        reader.close()
        let reopened = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        #expect(StoreFixture.permissionBits(path) == 0o600)
        // (The reader's -wal and -shm took the loose mode too: they are tightened as well.)
        #expect(reopened.warnings.first?.hasPrefix("\(path) was mode 644") == true, "\(reopened.warnings)")
        #expect(reopened.warnings.allSatisfy { $0.contains("now 0600") }, "\(reopened.warnings)")
        for file in [path, path + "-wal", path + "-shm"] { #expect(StoreFixture.permissionBits(file) == 0o600) }
        #expect(try reopened.installation(id: "T1") != nil)
    }

    @Test("the writer uses WAL, synchronous FULL and secure_delete")
    func connectionSettings() throws {
        let store = try InstallationStore(path: StoreFixture.temporaryDirectory() + "/installations.db", clientID: StoreFixture.clientID)
        let settings = try store.database.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"),
             try Int.fetchOne(db, sql: "PRAGMA secure_delete"))
        }
        #expect(settings.0 == "wal" && settings.1 == 2 && settings.2 == 1)
    }

    @Test("a file that is not SQLite, or another program's database, is refused and left as it is")
    func foreignFiles() throws {
        let folder = StoreFixture.temporaryDirectory()
        let text = folder + "/notes.db"
        let content = Data(String(repeating: "these are not installations\n", count: 200).utf8)
        #expect(FileManager.default.createFile(atPath: text, contents: content))
        let notSQLite = #expect(throws: InstallationStoreError.self) { try InstallationStore(path: text, clientID: StoreFixture.clientID) }
        #expect(notSQLite?.kind == .corrupt)
        #expect(notSQLite?.description.contains("not a database") == true)
        #expect(notSQLite?.description.contains(text) == true)
        #expect(FileManager.default.contents(atPath: text) == content)
        #expect(!FileManager.default.fileExists(atPath: text + "-wal"))

        let other = folder + "/other.db"
        try DatabaseQueue(path: other).write { db in try db.execute(sql: "CREATE TABLE users (id INTEGER PRIMARY KEY)") }
        let foreign = #expect(throws: InstallationStoreError.self) { try InstallationStore(path: other, clientID: StoreFixture.clientID) }
        #expect(foreign?.kind == .foreign)
        #expect(try DatabaseQueue(path: other).read { db in try db.tableExists("sockeye_installations") } == false)

        let stamped = folder + "/stamped.db"
        try DatabaseQueue(path: stamped).writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA application_id = 1397445456; CREATE TABLE slack_bots (id INTEGER)")
        }
        let stampedError = #expect(throws: InstallationStoreError.self) { try InstallationStore(path: stamped, clientID: StoreFixture.clientID) }
        #expect(stampedError?.kind == .foreign)
        #expect(stampedError?.description.contains("application_id 1397445456") == true)

        let missing = #expect(throws: InstallationStoreError.self) {
            try InstallationStore(path: folder + "/absent.db", clientID: StoreFixture.clientID, options: .init(readOnly: true))
        }
        #expect(missing?.kind == .missing)
        #expect(!FileManager.default.fileExists(atPath: folder + "/absent.db"))
    }

    @Test("a file slack_sdk created is adopted: its rows are kept and found, the newest row wins, a rotation collapses them")
    func adoptsSlackSDKFile() throws {
        let path = StoreFixture.temporaryDirectory() + "/slackapp.db"
        // What slack_sdk's SQLite3InstallationStore does: its create_tables, then save() (an
        // insert into each table, installed_at from current_timestamp, expires_at in seconds),
        // then a token rotation by Bolt (a second, newer row in each table).
        try DatabaseQueue(path: path).writeWithoutTransaction { db in
            try db.execute(sql: StoreFixture.slackSDKSchema)
            for (token, refresh, expires, installedAt) in [("xoxe.xoxb-1-old", "xoxe-1-old", 1_700_043_200, nil),
                                                           ("xoxe.xoxb-1-new", "xoxe-1-new", 1_900_000_000, "2099-01-01 00:00:00")] {
                try db.execute(sql: """
                    INSERT INTO slack_installations (client_id, app_id, enterprise_id, enterprise_name, enterprise_url, team_id, team_name,
                        bot_token, bot_id, bot_user_id, bot_scopes, bot_refresh_token, bot_token_expires_at,
                        user_id, user_token, user_scopes, user_refresh_token, user_token_expires_at,
                        incoming_webhook_url, incoming_webhook_channel, incoming_webhook_channel_id, incoming_webhook_configuration_url,
                        is_enterprise_install, token_type)
                    VALUES (?, 'A1', '', NULL, NULL, 'T1', 'Team One', ?, 'B1', 'U1bot', 'chat:write,commands', ?, ?,
                            'U1', NULL, NULL, NULL, NULL, 'https://hooks.slack.com/x', '#general', 'C1', 'https://x.slack.com/', 0, 'bot')
                    """, arguments: [StoreFixture.clientID, token, refresh, expires])
                try db.execute(sql: """
                    INSERT INTO slack_bots (client_id, app_id, enterprise_id, enterprise_name, team_id, team_name,
                        bot_token, bot_id, bot_user_id, bot_scopes, bot_refresh_token, bot_token_expires_at, is_enterprise_install)
                    VALUES (?, 'A1', '', NULL, 'T1', 'Team One', ?, 'B1', 'U1bot', 'chat:write,commands', ?, ?, 0)
                    """, arguments: [StoreFixture.clientID, token, refresh, expires])
                if let installedAt {
                    try db.execute(sql: "UPDATE slack_installations SET installed_at = ? WHERE bot_token = ?", arguments: [installedAt, token])
                    try db.execute(sql: "UPDATE slack_bots SET installed_at = ? WHERE bot_token = ?", arguments: [installedAt, token])
                }
            }
            // Another app's row in the same file (slack_sdk keys rows by client_id).
            try db.execute(sql: """
                INSERT INTO slack_bots (client_id, app_id, team_id, bot_token, bot_id, bot_user_id, is_enterprise_install)
                VALUES ('9999.other', 'A9', 'T1', 'xoxb-other-app', 'B9', 'U9', 0)
                """)
            // Bolt's OAuth state store often shares the file.
            try db.execute(sql: "CREATE TABLE oauth_states (id integer primary key autoincrement, state text not null, expire_at datetime not null)")
        }
        let before = Int64(Date().timeIntervalSince1970)

        // The CLI may read it before sockeyed ever wrote to it.
        let reader = try InstallationStore(path: path, clientID: StoreFixture.clientID, options: .init(readOnly: true))
        #expect(try reader.installation(id: "T1")?.bot?.token == "xoxe.xoxb-1-new")
        #expect(try reader.summaries().map(\.id) == ["T1"])
        reader.close()

        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        let found = try #require(try store.find(enterpriseID: nil, teamID: "T1", isEnterpriseInstall: false))
        #expect(found.bot == BotCredentials(token: "xoxe.xoxb-1-new", botID: "B1", botUserID: "U1bot", scopes: ["chat:write", "commands"],
                                            refreshToken: "xoxe-1-new", expiresAt: 1_900_000_000))
        #expect(found.installerUserID == "U1" && found.user == nil && found.teamName == "Team One" && found.enterpriseID == nil)
        // installed_at: the oldest row's current_timestamp, read as UTC.
        #expect(abs(found.installedAt - before) < 5)
        #expect(try store.summary(id: "T1")?.state == .active)
        #expect(try store.activeInstallations().map(\.id) == ["T1"])

        #expect(try store.rotate(id: "T1", bot: BotCredentials(token: "xoxe.xoxb-1-newer", botID: "B1", botUserID: "U1bot", scopes: ["chat:write"],
                                                               refreshToken: "xoxe-1-newer", expiresAt: 1_900_040_000),
                                 user: nil, expectedBotRefreshToken: "xoxe-1-new", expectedUserRefreshToken: nil, now: before) == .stored)
        let after = try DatabaseQueue(path: path).read { db in
            (try Row.fetchAll(db, sql: "SELECT bot_token, incoming_webhook_url FROM slack_installations"),
             try String.fetchAll(db, sql: "SELECT bot_token FROM slack_bots ORDER BY client_id"))
        }
        #expect(after.0.count == 1)
        #expect(after.0.first?["bot_token"] as String? == "xoxe.xoxb-1-newer")
        #expect(after.0.first?["incoming_webhook_url"] as String? == "https://hooks.slack.com/x")
        #expect(after.1 == ["xoxe.xoxb-1-newer", "xoxb-other-app"])
        #expect(try store.installation(id: "T1")?.installedAt == found.installedAt)
    }

    @Test("an installation with no key, and any write through a read-only store, is refused without quoting a token")
    func refusedWrites() throws {
        let path = StoreFixture.temporaryDirectory() + "/installations.db"
        let store = try InstallationStore(path: path, clientID: StoreFixture.clientID)
        var keyless = StoreFixture.workspaceInstall()
        keyless.teamID = nil
        let invalid = #expect(throws: InstallationStoreError.self) { try store.save(keyless) }
        #expect(invalid?.kind == .invalid)
        var noEnterprise = StoreFixture.orgWideInstall()
        noEnterprise.enterpriseID = nil
        #expect(throws: InstallationStoreError.self) { try store.save(noEnterprise) }
        try store.save(StoreFixture.workspaceInstall())

        let reader = try InstallationStore(path: path, clientID: StoreFixture.clientID, options: .init(readOnly: true))
        let readOnly = #expect(throws: InstallationStoreError.self) { try reader.save(StoreFixture.workspaceInstall(generation: 2)) }
        #expect(readOnly?.kind == .cannotOpen)
        let errors = [invalid, readOnly].compactMap { $0 }
        for error in errors {
            for secret in StoreFixture.secrets(of: StoreFixture.workspaceInstall()) + StoreFixture.secrets(of: StoreFixture.workspaceInstall(generation: 2)) {
                #expect(!error.description.contains(secret))
                #expect(!"\(error)".contains(secret))
                #expect(!String(reflecting: error).contains(secret))
            }
        }
    }

    @Test("printing an installation, its credentials or a rotation result shows ids, never a token")
    func noTokenInDescriptions() throws {
        for installation in [StoreFixture.workspaceInstall("T1", enterprise: "E1"), StoreFixture.orgWideInstall("E1")] {
            let result = InstallationStore.RotationResult.alreadyRotated(current: installation)
            var dumped = ""
            dump(installation, to: &dumped)
            let texts = ["\(installation)", String(reflecting: installation), "\(installation.bot!)", "\(installation.user!)",
                         String(reflecting: installation.bot!), "\(result)", String(reflecting: result), dumped, "\([installation])"]
            for text in texts {
                for secret in StoreFixture.secrets(of: installation) {
                    #expect(!text.contains(secret), "\(text)")
                }
            }
            #expect("\(installation)".contains(installation.id))
            #expect("\(installation)".contains(installation.bot!.botUserID))
        }
    }
}

extension StoreFixture {
    /// slack_sdk's `SQLite3InstallationStore.create_tables` (slack_sdk 3.8 and later), as it
    /// runs it.
    static let slackSDKSchema = """
    create table slack_installations (
        id integer primary key autoincrement,
        client_id text not null,
        app_id text not null,
        enterprise_id text not null default '',
        enterprise_name text,
        enterprise_url text,
        team_id text not null default '',
        team_name text,
        bot_token text,
        bot_id text,
        bot_user_id text,
        bot_scopes text,
        bot_refresh_token text,  -- since v3.8
        bot_token_expires_at datetime,  -- since v3.8
        user_id text not null,
        user_token text,
        user_scopes text,
        user_refresh_token text,  -- since v3.8
        user_token_expires_at datetime,  -- since v3.8
        incoming_webhook_url text,
        incoming_webhook_channel text,
        incoming_webhook_channel_id text,
        incoming_webhook_configuration_url text,
        is_enterprise_install boolean not null default 0,
        token_type text,
        installed_at datetime not null default current_timestamp
    );
    create index slack_installations_idx on slack_installations (
        client_id,
        enterprise_id,
        team_id,
        user_id,
        installed_at
    );
    create table slack_bots (
        id integer primary key autoincrement,
        client_id text not null,
        app_id text not null,
        enterprise_id text not null default '',
        enterprise_name text,
        team_id text not null default '',
        team_name text,
        bot_token text not null,
        bot_id text not null,
        bot_user_id text not null,
        bot_scopes text,
        bot_refresh_token text,  -- since v3.8
        bot_token_expires_at datetime,  -- since v3.8
        is_enterprise_install boolean not null default 0,
        installed_at datetime not null default current_timestamp
    );
    create index slack_bots_idx on slack_bots (
        client_id,
        enterprise_id,
        team_id,
        installed_at
    );
    """
}
