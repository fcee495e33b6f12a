import Foundation
import GRDB

extension InstallationStore {
    /// What `rotate` did.
    public enum RotationResult: Sendable, Equatable, CustomStringConvertible {
        /// The new tokens are stored; the old refresh token is gone.
        case stored
        /// The stored refresh token was no longer the expected one: another process (another
        /// node, a Bolt app) rotated first. Nothing was changed; `current` holds its tokens.
        case alreadyRotated(current: Installation)
        /// No installation has that id.
        case notFound
        /// The installation is revoked: its tokens are gone and must not come back this way.
        case revoked

        /// The outcome, without tokens.
        public var description: String {
            switch self {
            case .stored: "stored"
            case .alreadyRotated(let current): "already rotated (\(current.id), updated_at \(current.updatedAt))"
            case .notFound: "not found"
            case .revoked: "revoked"
            }
        }
    }

    // MARK: writing

    /// Stores `installation` (an OAuth install), replacing what the store held for its key:
    /// a re-install of the same workspace (or organization) replaces the tokens and keeps the
    /// first `installedAt`; an install after a revocation starts anew (`installedAt` as given).
    /// The installation becomes active, its revocation reason and time cleared. `updatedAt` is
    /// `now`. In slack_sdk's tables the key's rows (all of them, whichever user installed) are
    /// replaced by one row in each table (none in `slack_bots` without a bot).
    ///
    /// Cost: one write transaction over all tables. Returns what was stored.
    @discardableResult
    public func save(_ installation: Installation, now: Int64 = Int64(Date().timeIntervalSince1970)) throws(InstallationStoreError) -> Installation {
        let key = try validKey(installation)
        return try write { db in
            let previous = try StoredInstallation.load(key, clientID: clientID, in: db)
            var stored = installation
            stored.installedAt = previous?.installation?.installedAt ?? installation.installedAt
            stored.updatedAt = now
            try deleteSlackRows(key, in: db)
            try insertSlackInstallationRow(stored, key: key, at: now, in: db)
            if let bot = stored.bot { try insertSlackBotRow(stored, bot: bot, key: key, at: now, in: db) }
            try writeOwnRow(stored, key: key, in: db)
            return stored
        }
    }

    /// Stores a new token pair for installation `id` — the bot's, the user's or both (nil:
    /// left as they are) — if the stored refresh token of each one given is still
    /// `expectedBotRefreshToken` / `expectedUserRefreshToken` (the ones the caller exchanged).
    /// When another process sharing the file rotated first, nothing changes and the result
    /// carries what it stored. The key's rows in slack_sdk's tables are updated in place (other
    /// columns, such as an incoming webhook, are kept) and any older rows of the key removed.
    ///
    /// Cost: one write transaction; the comparison and the write hold the write lock together.
    public func rotate(id: String, bot: BotCredentials?, user: UserCredentials?,
                       expectedBotRefreshToken: String?, expectedUserRefreshToken: String?,
                       now: Int64 = Int64(Date().timeIntervalSince1970)) throws(InstallationStoreError) -> RotationResult {
        try write { db in
            guard let key = try StoredInstallation.key(forID: id, clientID: clientID, in: db),
                  let stored = try StoredInstallation.load(key, clientID: clientID, in: db)
            else { return .notFound }
            guard let current = stored.installation else { return .revoked }
            if bot != nil, current.bot?.refreshToken != expectedBotRefreshToken { return .alreadyRotated(current: current) }
            if user != nil, current.user?.refreshToken != expectedUserRefreshToken { return .alreadyRotated(current: current) }
            var next = current
            if let bot { next.bot = bot }
            if let user { next.user = user }
            next.updatedAt = now
            try updateSlackRows(next, stored: stored, at: now, in: db)
            try writeOwnRow(next, key: key, in: db)
            return .stored
        }
    }

    /// Revokes installation `id` (`app_uninstalled`, `tokens_revoked` naming the bot,
    /// `invalid_auth`, an operator): deletes its rows from `slack_installations` and
    /// `slack_bots`, so neither sockeyed nor a Bolt app sharing the file can use its tokens,
    /// and marks it revoked with `reason` and `now`. sockeyed's row keeps ids and names, no
    /// token, until `purgeRevoked`. Deleted rows are overwritten and the WAL emptied (best
    /// effort), so the tokens' text is left in neither file. Returns false, changing nothing,
    /// when it is already revoked or unknown.
    ///
    /// Cost: one write transaction, then a WAL checkpoint.
    @discardableResult
    public func revoke(id: String, reason: String, now: Int64 = Int64(Date().timeIntervalSince1970)) throws(InstallationStoreError) -> Bool {
        try write({ db in
            guard let key = try StoredInstallation.key(forID: id, clientID: clientID, in: db),
                  let stored = try StoredInstallation.load(key, clientID: clientID, in: db)
            else { return false }
            if let current = stored.installation {
                try writeOwnRow(current, key: key, in: db)
                try deleteSlackRows(key, in: db)
            } else if stored.own?.state != .active {
                return false
            }
            // (No tokens but an active row: another program deleted its rows; now it is said why.)
            try db.execute(sql: """
                UPDATE sockeye_installations SET state = 'revoked', reason = ?, revoked_at = ?, updated_at = ?
                WHERE client_id = ? AND id = ?
                """, arguments: [reason, now, now, clientID, key.id])
            return true
        }, afterCommit: Self.scrubWAL)
    }

    /// Removes the user tokens of installation `id` held for the users `userIDs`
    /// (`tokens_revoked`'s `oauth` list): their token, refresh token, expiry and scopes are
    /// cleared in `slack_installations`; the bot's token stays. (When the event also lists
    /// the bot user, the caller calls `revoke`.) An installation without a bot is left
    /// active with no token. Returns whether a token was removed.
    ///
    /// Cost: one write transaction, then (when a token went) a WAL checkpoint.
    @discardableResult
    public func revokeUserTokens(id: String, userIDs: [String], now: Int64 = Int64(Date().timeIntervalSince1970)) throws(InstallationStoreError) -> Bool {
        guard !userIDs.isEmpty else { return false }
        return try write({ db in
            guard let key = try StoredInstallation.key(forID: id, clientID: clientID, in: db),
                  let stored = try StoredInstallation.load(key, clientID: clientID, in: db),
                  var current = stored.installation, try StoreTables(db).slackInstallations
            else { return false }
            let (condition, arguments) = key.condition(clientID: clientID)
            let marks = Array(repeating: "?", count: userIDs.count).joined(separator: ", ")
            try db.execute(sql: """
                UPDATE slack_installations
                SET user_token = NULL, user_refresh_token = NULL, user_token_expires_at = NULL, user_scopes = NULL
                WHERE \(condition) AND user_token IS NOT NULL AND user_id IN (\(marks))
                """, arguments: arguments + StatementArguments(userIDs))
            guard db.changesCount > 0 else { return false }
            current.updatedAt = now
            if userIDs.contains(current.installerUserID) { current.user = nil }
            try writeOwnRow(current, key: key, in: db)
            return true
        }, afterCommit: Self.scrubWAL)
    }

    /// Deletes sockeyed's rows of installations revoked more than `seconds` before `now`
    /// (and of those whose slack_sdk rows another program deleted, by their last update);
    /// returns how many. An installation installed again since keeps its row.
    ///
    /// Cost: one write transaction, then (when rows went) a WAL checkpoint.
    @discardableResult
    public func purgeRevoked(olderThan seconds: Int64, now: Int64 = Int64(Date().timeIntervalSince1970)) throws(InstallationStoreError) -> Int {
        let cutoff = now - seconds
        return try write({ db in
            func noRows(in table: String) -> String {
                """
                NOT EXISTS (SELECT 1 FROM \(table) AS s WHERE s.client_id = sockeye_installations.client_id AND
                    CASE WHEN sockeye_installations.is_enterprise_install = 1
                         THEN s.enterprise_id = sockeye_installations.id AND s.team_id = ''
                         ELSE s.team_id = sockeye_installations.id END)
                """
            }
            try db.execute(sql: """
                DELETE FROM sockeye_installations
                WHERE client_id = ?
                  AND ((state = 'revoked' AND revoked_at < ?) OR (state = 'active' AND updated_at < ?))
                  AND \(noRows(in: StoreSchema.slackInstallations)) AND \(noRows(in: StoreSchema.slackBots))
                """, arguments: [clientID, cutoff, cutoff])
            return db.changesCount
        }, afterCommit: Self.scrubWAL)
    }

    // MARK: reading

    /// The active installation whose id is `id` (an enterprise id for an org-wide install,
    /// else a team id), with its tokens; nil when unknown or revoked (see `summary(id:)`).
    ///
    /// Cost: one read transaction (a handful of indexed lookups).
    public func installation(id: String) throws(InstallationStoreError) -> Installation? {
        try read { db in
            guard let key = try StoredInstallation.key(forID: id, clientID: clientID, in: db) else { return nil }
            return try StoredInstallation.load(key, clientID: clientID, in: db)?.installation
        }
    }

    /// Every active installation of the app, with its tokens, sorted by id: what the daemon
    /// builds its authorization index from.
    ///
    /// Cost: one read transaction, a few lookups per installation.
    public func activeInstallations() throws(InstallationStoreError) -> [Installation] {
        try read { db in
            try StoredInstallation.keys(clientID: clientID, withTokensOnly: true, in: db).compactMap { key in
                try StoredInstallation.load(key, clientID: clientID, in: db)?.installation
            }
        }
    }

    /// The installation that authorizes a payload from `teamID` in `enterpriseID`, by Slack's
    /// rules (those of Bolt and slack_sdk): when `isEnterpriseInstall` (or without a team), the
    /// organization's org-wide install; else the workspace's own install, or failing that the
    /// organization's org-wide install, which covers its workspaces. Nil when none is active.
    ///
    /// Cost: one read transaction.
    public func find(enterpriseID: String?, teamID: String?, isEnterpriseInstall: Bool) throws(InstallationStoreError) -> Installation? {
        let enterpriseID = StoreValues.nonEmpty(enterpriseID)
        let teamID = StoreValues.nonEmpty(teamID)
        return try read { db in
            var keys: [InstallationKey] = []
            if !isEnterpriseInstall, let teamID { keys.append(InstallationKey(isEnterpriseInstall: false, id: teamID)) }
            if let enterpriseID { keys.append(InstallationKey(isEnterpriseInstall: true, id: enterpriseID)) }
            for key in keys {
                if let found = try StoredInstallation.load(key, clientID: clientID, in: db)?.installation { return found }
            }
            return nil
        }
    }

    /// What may be shown of the app's installations (no token), sorted by id; revoked ones
    /// (until purged) only when `includeRevoked`.
    ///
    /// Cost: one read transaction, a few lookups per installation.
    public func summaries(includeRevoked: Bool = false) throws(InstallationStoreError) -> [InstallationSummary] {
        try read { db in
            try StoredInstallation.keys(clientID: clientID, withTokensOnly: !includeRevoked, in: db).compactMap { key in
                try StoredInstallation.load(key, clientID: clientID, in: db)?.summary
            }.filter { includeRevoked || $0.state == .active }
        }
    }

    /// What may be shown of installation `id`, active or revoked (until purged); nil when
    /// unknown.
    ///
    /// Cost: one read transaction.
    public func summary(id: String) throws(InstallationStoreError) -> InstallationSummary? {
        try read { db in
            guard let key = try StoredInstallation.key(forID: id, clientID: clientID, in: db) else { return nil }
            return try StoredInstallation.load(key, clientID: clientID, in: db)?.summary
        }
    }

    // MARK: rows

    /// The key of an installation that can be stored, or `invalid`.
    func validKey(_ installation: Installation) throws(InstallationStoreError) -> InstallationKey {
        if installation.isEnterpriseInstall {
            guard StoreValues.nonEmpty(installation.enterpriseID) != nil else {
                throw InstallationStoreError(.invalid, path: path, detail: "an org-wide install without an enterprise id")
            }
        } else if StoreValues.nonEmpty(installation.teamID) == nil {
            throw InstallationStoreError(.invalid, path: path,
                                         detail: "a workspace install without a team id (enterprise \(installation.enterpriseID ?? "none"))")
        }
        return InstallationKey(isEnterpriseInstall: installation.isEnterpriseInstall, id: installation.id)
    }

    func deleteSlackRows(_ key: InstallationKey, in db: Database) throws {
        let (condition, arguments) = key.condition(clientID: clientID)
        try db.execute(sql: "DELETE FROM slack_installations WHERE \(condition)", arguments: arguments)
        try db.execute(sql: "DELETE FROM slack_bots WHERE \(condition)", arguments: arguments)
    }

    /// A `slack_installations` row as slack_sdk's `save` writes it; `installed_at` is `at`
    /// as `current_timestamp` would write it.
    func insertSlackInstallationRow(_ installation: Installation, key: InstallationKey, at time: Int64, in db: Database) throws {
        let bot = installation.bot
        let user = installation.user
        try db.execute(sql: """
            INSERT INTO slack_installations (
                client_id, app_id, enterprise_id, enterprise_name, enterprise_url, team_id, team_name,
                bot_token, bot_id, bot_user_id, bot_scopes, bot_refresh_token, bot_token_expires_at,
                user_id, user_token, user_scopes, user_refresh_token, user_token_expires_at,
                is_enterprise_install, token_type, installed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, datetime(?, 'unixepoch'))
            """, arguments: [
                clientID, installation.appID, installation.enterpriseID ?? "", installation.enterpriseName,
                installation.enterpriseURL, key.isEnterpriseInstall ? "" : key.id, installation.teamName,
                bot?.token, bot?.botID, bot?.botUserID, (bot?.scopes ?? []).joined(separator: ","), bot?.refreshToken, bot?.expiresAt,
                installation.installerUserID, user?.token, Self.userScopes(user), user?.refreshToken, user?.expiresAt,
                key.isEnterpriseInstall ? 1 : 0, installation.tokenType, time,
            ])
    }

    /// A `slack_bots` row as slack_sdk's `save_bot` writes it.
    func insertSlackBotRow(_ installation: Installation, bot: BotCredentials, key: InstallationKey, at time: Int64, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO slack_bots (
                client_id, app_id, enterprise_id, enterprise_name, team_id, team_name,
                bot_token, bot_id, bot_user_id, bot_scopes, bot_refresh_token, bot_token_expires_at,
                is_enterprise_install, installed_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, datetime(?, 'unixepoch'))
            """, arguments: [
                clientID, installation.appID, installation.enterpriseID ?? "", installation.enterpriseName,
                key.isEnterpriseInstall ? "" : key.id, installation.teamName,
                bot.token, bot.botID, bot.botUserID, bot.scopes.joined(separator: ","), bot.refreshToken, bot.expiresAt,
                key.isEnterpriseInstall ? 1 : 0, time,
            ])
    }

    /// slack_sdk writes no user scopes as NULL.
    static func userScopes(_ user: UserCredentials?) -> String? {
        guard let user, !user.scopes.isEmpty else { return nil }
        return user.scopes.joined(separator: ",")
    }

    /// Writes `next`'s tokens over the key's newest rows (their other columns kept, their
    /// `installed_at` made `at`) and deletes its older rows: one current row per table.
    func updateSlackRows(_ next: Installation, stored: StoredInstallation, at time: Int64, in db: Database) throws {
        let key = stored.key
        let (condition, arguments) = key.condition(clientID: clientID)
        let bot = next.bot
        let user = next.user
        if let row = stored.installationRow {
            let rowID: Int64 = row["id"]
            try db.execute(sql: """
                UPDATE slack_installations
                SET bot_token = ?, bot_id = ?, bot_user_id = ?, bot_scopes = ?, bot_refresh_token = ?, bot_token_expires_at = ?,
                    user_token = ?, user_scopes = ?, user_refresh_token = ?, user_token_expires_at = ?,
                    installed_at = datetime(?, 'unixepoch')
                WHERE id = ?
                """, arguments: [
                    bot?.token, bot?.botID, bot?.botUserID, (bot?.scopes ?? []).joined(separator: ","), bot?.refreshToken, bot?.expiresAt,
                    user?.token, Self.userScopes(user), user?.refreshToken, user?.expiresAt, time, rowID,
                ])
            try db.execute(sql: "DELETE FROM slack_installations WHERE \(condition) AND id <> ?", arguments: arguments + [rowID])
        } else if user != nil {
            try insertSlackInstallationRow(next, key: key, at: time, in: db)
        }
        if let bot, let row = stored.botRow {
            let rowID: Int64 = row["id"]
            try db.execute(sql: """
                UPDATE slack_bots
                SET bot_token = ?, bot_id = ?, bot_user_id = ?, bot_scopes = ?, bot_refresh_token = ?, bot_token_expires_at = ?,
                    installed_at = datetime(?, 'unixepoch')
                WHERE id = ?
                """, arguments: [bot.token, bot.botID, bot.botUserID, bot.scopes.joined(separator: ","), bot.refreshToken, bot.expiresAt,
                                 time, rowID])
            try db.execute(sql: "DELETE FROM slack_bots WHERE \(condition) AND id <> ?", arguments: arguments + [rowID])
        } else if let bot {
            try insertSlackBotRow(next, bot: bot, key: key, at: time, in: db)
        } else {
            try db.execute(sql: "DELETE FROM slack_bots WHERE \(condition)", arguments: arguments)
        }
    }

    /// sockeyed's row for an active installation (ids, names, times; no token).
    func writeOwnRow(_ installation: Installation, key: InstallationKey, in db: Database) throws {
        let bot = installation.bot
        try db.execute(sql: """
            INSERT OR REPLACE INTO sockeye_installations (
                client_id, id, app_id, enterprise_id, enterprise_name, enterprise_url, team_id, team_name,
                is_enterprise_install, installer_user_id, bot_id, bot_user_id, bot_scopes,
                state, reason, installed_at, updated_at, revoked_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', NULL, ?, ?, NULL)
            """, arguments: [
                clientID, key.id, installation.appID, installation.enterpriseID, installation.enterpriseName,
                installation.enterpriseURL, installation.teamID, installation.teamName,
                key.isEnterpriseInstall ? 1 : 0, installation.installerUserID, bot?.botID, bot?.botUserID,
                bot.map { $0.scopes.joined(separator: ",") }, installation.installedAt, installation.updatedAt,
            ])
    }
}
