import Foundation
import GRDB

/// Which rows of slack_sdk's tables belong to an installation: an org-wide install's are
/// (client, enterprise id, team `''`), as slack_sdk keys them; a workspace install's are
/// (client, team id), whatever their enterprise id (team ids are unique across Slack).
struct InstallationKey: Hashable, Comparable {
    var isEnterpriseInstall: Bool
    /// The installation's id: the enterprise id of an org-wide install, else the team id.
    var id: String

    /// The SQL condition on a slack_sdk table's row, with its arguments.
    func condition(clientID: String) -> (sql: String, arguments: StatementArguments) {
        isEnterpriseInstall
            ? ("client_id = ? AND enterprise_id = ? AND team_id = ''", [clientID, id])
            : ("client_id = ? AND team_id = ?", [clientID, id])
    }

    static func < (a: Self, b: Self) -> Bool { (a.id, a.isEnterpriseInstall ? 1 : 0) < (b.id, b.isEnterpriseInstall ? 1 : 0) }
}

/// How slack_sdk's values are read.
enum StoreValues {
    /// Seconds since 1970 from a slack_sdk time column, whichever way it was written: integer
    /// seconds (slack_sdk's `*_expires_at`), a real, or UTC text (`current_timestamp`'s
    /// `YYYY-MM-DD HH:MM:SS`, or ISO 8601 with a zone).
    static func secondsSQL(_ column: String) -> String {
        """
        CASE typeof(\(column)) WHEN 'integer' THEN \(column) WHEN 'real' THEN CAST(\(column) AS INTEGER) \
        WHEN 'text' THEN CAST(strftime('%s', \(column)) AS INTEGER) END
        """
    }

    /// Comma-joined scopes (slack_sdk's form) as a list.
    static func splitScopes(_ text: String?) -> [String] {
        (text ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// An empty string (slack_sdk's "none") as nil.
    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }
}

/// sockeyed's row for an installation (`sockeye_installations`).
struct OwnInstallationRow {
    var appID: String
    var enterpriseID: String?
    var enterpriseName: String?
    var enterpriseURL: String?
    var teamID: String?
    var teamName: String?
    var isEnterpriseInstall: Bool
    var installerUserID: String
    var botID: String?
    var botUserID: String?
    var botScopes: [String]
    var state: InstallationState
    var reason: String?
    var installedAt: Int64
    var updatedAt: Int64
    var revokedAt: Int64?

    init(_ row: Row) {
        appID = row["app_id"]
        enterpriseID = row["enterprise_id"]
        enterpriseName = row["enterprise_name"]
        enterpriseURL = row["enterprise_url"]
        teamID = row["team_id"]
        teamName = row["team_name"]
        isEnterpriseInstall = (row["is_enterprise_install"] as Int64? ?? 0) != 0
        installerUserID = row["installer_user_id"]
        botID = row["bot_id"]
        botUserID = row["bot_user_id"]
        botScopes = StoreValues.splitScopes(row["bot_scopes"])
        state = InstallationState(rawValue: row["state"] ?? "") ?? .revoked
        reason = row["reason"]
        installedAt = row["installed_at"] ?? 0
        updatedAt = row["updated_at"] ?? 0
        revokedAt = row["revoked_at"]
    }
}

/// Everything the file holds on one installation: sockeyed's row and the newest rows of
/// slack_sdk's two tables (the ones slack_sdk's `find_installation` and `find_bot` return).
struct StoredInstallation {
    var key: InstallationKey
    var own: OwnInstallationRow?
    /// The newest `slack_installations` row.
    var installationRow: Row?
    /// The newest `slack_bots` row.
    var botRow: Row?
    /// The oldest and newest `installed_at` of the key's slack_sdk rows, in seconds.
    var oldestSlackRow: Int64?
    var newestSlackRow: Int64?

    /// Tokens are stored: slack_sdk (so Bolt) would find this installation.
    var hasTokens: Bool { installationRow != nil || botRow != nil }

    /// The bot: from the newer of the newest `slack_bots` row and the newest
    /// `slack_installations` row with a bot token (Bolt's `save_bot` writes only the first).
    var bot: BotCredentials? {
        func credentials(_ row: Row) -> BotCredentials? {
            guard let token: String = row["bot_token"] else { return nil }
            return BotCredentials(token: token, botID: row["bot_id"] ?? "", botUserID: row["bot_user_id"] ?? "",
                                  scopes: StoreValues.splitScopes(row["bot_scopes"]), refreshToken: row["bot_refresh_token"],
                                  expiresAt: row["bot_expires"])
        }
        let fromBots = botRow.flatMap(credentials)
        let fromInstallations = installationRow.flatMap(credentials)
        guard let fromBots else { return fromInstallations }
        guard let fromInstallations, let installationRow, let botRow else { return fromBots }
        let botsAt: Int64 = botRow["installed"] ?? 0
        let installationsAt: Int64 = installationRow["installed"] ?? 0
        return installationsAt > botsAt ? fromInstallations : fromBots
    }

    var user: UserCredentials? {
        guard let row = installationRow, let token: String = row["user_token"] else { return nil }
        return UserCredentials(token: token, scopes: StoreValues.splitScopes(row["user_scopes"]), refreshToken: row["user_refresh_token"],
                               expiresAt: row["user_expires"])
    }

    /// The installation with its tokens; nil when none are stored (revoked, or deleted by
    /// another program).
    var installation: Installation? {
        guard hasTokens else { return nil }
        let row = installationRow ?? botRow
        func text(_ row: Row?, _ column: String) -> String? { row.flatMap { $0[column] as String? } }
        let bot = bot
        let installedAt = (own?.state == .active ? own?.installedAt : nil) ?? oldestSlackRow ?? own?.installedAt ?? 0
        let tokenType: String? = installationRow != nil ? text(installationRow, "token_type") : (bot != nil ? "bot" : nil)
        return Installation(
            appID: text(row, "app_id") ?? own?.appID ?? "",
            enterpriseID: StoreValues.nonEmpty(text(row, "enterprise_id")) ?? own?.enterpriseID,
            enterpriseName: text(row, "enterprise_name") ?? own?.enterpriseName,
            enterpriseURL: text(installationRow, "enterprise_url") ?? own?.enterpriseURL,
            teamID: key.isEnterpriseInstall ? own?.teamID : key.id,
            teamName: text(row, "team_name") ?? own?.teamName,
            isEnterpriseInstall: key.isEnterpriseInstall,
            bot: bot,
            installerUserID: text(installationRow, "user_id") ?? own?.installerUserID ?? "",
            user: user,
            tokenType: tokenType,
            installedAt: installedAt,
            updatedAt: max(own?.updatedAt ?? 0, newestSlackRow ?? 0, installedAt))
    }

    /// What may be shown of it.
    var summary: InstallationSummary {
        if let installation {
            return InstallationSummary(
                id: key.id, enterpriseID: installation.enterpriseID, enterpriseName: installation.enterpriseName,
                teamID: installation.teamID, teamName: installation.teamName, isEnterpriseInstall: key.isEnterpriseInstall,
                state: .active, reason: nil, installedAt: installation.installedAt, updatedAt: installation.updatedAt,
                expiresAt: installation.bot?.expiresAt ?? installation.user?.expiresAt,
                botUserID: installation.bot?.botUserID ?? own?.botUserID, botScopes: installation.bot?.scopes ?? [])
        }
        // No tokens: revoked by sockeyed, or its rows deleted by another program (a Bolt app's
        // `app_uninstalled` handler) while sockeyed still had it as active.
        return InstallationSummary(
            id: key.id, enterpriseID: own?.enterpriseID, enterpriseName: own?.enterpriseName, teamID: own?.teamID,
            teamName: own?.teamName, isEnterpriseInstall: key.isEnterpriseInstall, state: .revoked,
            reason: own?.state == .revoked ? own?.reason : "its rows were deleted from slack_installations and slack_bots by another program",
            installedAt: own?.installedAt ?? 0, updatedAt: own?.updatedAt ?? 0, expiresAt: nil,
            botUserID: own?.botUserID, botScopes: own?.botScopes ?? [])
    }

    /// Reads what the file holds on `key` (nil when nothing).
    static func load(_ key: InstallationKey, clientID: String, in db: Database) throws -> StoredInstallation? {
        let tables = try StoreTables(db)
        let own = try tables.own
            ? Row.fetchOne(db, sql: "SELECT * FROM sockeye_installations WHERE client_id = ? AND id = ?",
                           arguments: [clientID, key.id]).map(OwnInstallationRow.init) : nil
        let (condition, arguments) = key.condition(clientID: clientID)
        var stored = StoredInstallation(key: key, own: own)
        if tables.slackInstallations {
            stored.installationRow = try Row.fetchOne(db, sql: """
                SELECT id, app_id, enterprise_id, enterprise_name, enterprise_url, team_id, team_name,
                       bot_token, bot_id, bot_user_id, bot_scopes, bot_refresh_token, \(StoreValues.secondsSQL("bot_token_expires_at")) AS bot_expires,
                       user_id, user_token, user_scopes, user_refresh_token, \(StoreValues.secondsSQL("user_token_expires_at")) AS user_expires,
                       token_type, \(StoreValues.secondsSQL("installed_at")) AS installed
                FROM slack_installations WHERE \(condition)
                ORDER BY installed_at DESC, id DESC LIMIT 1
                """, arguments: arguments)
        }
        if tables.slackBots {
            stored.botRow = try Row.fetchOne(db, sql: """
                SELECT id, app_id, enterprise_id, enterprise_name, team_id, team_name,
                       bot_token, bot_id, bot_user_id, bot_scopes, bot_refresh_token, \(StoreValues.secondsSQL("bot_token_expires_at")) AS bot_expires,
                       \(StoreValues.secondsSQL("installed_at")) AS installed
                FROM slack_bots WHERE \(condition)
                ORDER BY installed_at DESC, id DESC LIMIT 1
                """, arguments: arguments)
        }
        var times: [Int64] = []
        for table in [StoreSchema.slackInstallations, StoreSchema.slackBots] where tables.has(table) {
            if let row = try Row.fetchOne(db, sql: "SELECT min(t), max(t) FROM (SELECT \(StoreValues.secondsSQL("installed_at")) AS t FROM \(table) WHERE \(condition))",
                                          arguments: arguments) {
                if let oldest: Int64 = row[0] { times.append(oldest) }
                if let newest: Int64 = row[1] { times.append(newest) }
            }
        }
        stored.oldestSlackRow = times.min()
        stored.newestSlackRow = times.max()
        guard own != nil || stored.hasTokens else { return nil }
        return stored
    }

    /// The key of the installation whose id is `id`: sockeyed's row says whether it is
    /// org-wide; without one, slack_sdk's rows do.
    static func key(forID id: String, clientID: String, in db: Database) throws -> InstallationKey? {
        let tables = try StoreTables(db)
        if tables.own,
           let enterprise = try Int64.fetchOne(db, sql: "SELECT is_enterprise_install FROM sockeye_installations WHERE client_id = ? AND id = ?",
                                               arguments: [clientID, id]) {
            return InstallationKey(isEnterpriseInstall: enterprise != 0, id: id)
        }
        for isEnterprise in [false, true] {
            let key = InstallationKey(isEnterpriseInstall: isEnterprise, id: id)
            let (condition, arguments) = key.condition(clientID: clientID)
            for table in [StoreSchema.slackInstallations, StoreSchema.slackBots] where tables.has(table) {
                if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM \(table) WHERE \(condition))", arguments: arguments) == true {
                    return key
                }
            }
        }
        return nil
    }

    /// The keys of the installations with rows in slack_sdk's tables (`withTokens`), or in
    /// any table, sorted by id.
    static func keys(clientID: String, withTokensOnly: Bool, in db: Database) throws -> [InstallationKey] {
        let tables = try StoreTables(db)
        var keys = Set<InstallationKey>()
        for table in [StoreSchema.slackInstallations, StoreSchema.slackBots] where tables.has(table) {
            let rows = try Row.fetchAll(db, sql: """
                SELECT DISTINCT team_id = '' AS org, CASE WHEN team_id = '' THEN enterprise_id ELSE team_id END AS id
                FROM \(table) WHERE client_id = ? AND NOT (team_id = '' AND enterprise_id = '')
                """, arguments: [clientID])
            for row in rows { keys.insert(InstallationKey(isEnterpriseInstall: row["org"], id: row["id"])) }
        }
        if !withTokensOnly, tables.own {
            let rows = try Row.fetchAll(db, sql: "SELECT is_enterprise_install AS org, id FROM sockeye_installations WHERE client_id = ?",
                                        arguments: [clientID])
            let known = Set(keys.map(\.id))
            for row in rows where !known.contains(row["id"]) {
                keys.insert(InstallationKey(isEnterpriseInstall: row["org"], id: row["id"]))
            }
        }
        return keys.sorted()
    }
}

/// Which of the store's tables the file has (a read-only store may open a file slack_sdk
/// made, without sockeyed's tables, or an empty one).
struct StoreTables {
    var names: Set<String>
    init(_ db: Database) throws {
        names = Set(try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_schema WHERE type = 'table' AND name IN ('slack_installations', 'slack_bots', 'sockeye_installations')
            """))
    }
    func has(_ table: String) -> Bool { names.contains(table) }
    var slackInstallations: Bool { has(StoreSchema.slackInstallations) }
    var slackBots: Bool { has(StoreSchema.slackBots) }
    var own: Bool { has(StoreSchema.ownInstallations) }
}
