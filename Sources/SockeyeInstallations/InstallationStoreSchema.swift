import GRDB

/// The tables of an installation store: slack_sdk's two (same columns, types, defaults and
/// indexes as its `SQLite3InstallationStore.create_tables`, slack_sdk 3.8 and later) and
/// sockeyed's own two.
enum StoreSchema {
    static let slackInstallations = "slack_installations"
    static let slackBots = "slack_bots"
    static let ownInstallations = "sockeye_installations"
    static let meta = "sockeye_store_meta"
    static let all: Set<String> = [slackInstallations, slackBots, ownInstallations, meta]

    /// The columns this store reads or writes in slack_sdk's tables (the rest, such as the
    /// incoming webhook's, are left to their defaults).
    static let slackInstallationsColumns: Set<String> = [
        "id", "client_id", "app_id", "enterprise_id", "enterprise_name", "enterprise_url", "team_id", "team_name",
        "bot_token", "bot_id", "bot_user_id", "bot_scopes", "bot_refresh_token", "bot_token_expires_at",
        "user_id", "user_token", "user_scopes", "user_refresh_token", "user_token_expires_at",
        "is_enterprise_install", "token_type", "installed_at",
    ]
    static let slackBotsColumns: Set<String> = [
        "id", "client_id", "app_id", "enterprise_id", "enterprise_name", "team_id", "team_name",
        "bot_token", "bot_id", "bot_user_id", "bot_scopes", "bot_refresh_token", "bot_token_expires_at",
        "is_enterprise_install", "installed_at",
    ]

    /// Refuses a database this store must not use or change: another program's
    /// `application_id`, tables none of which is an installation store's, a newer schema of
    /// ours, or slack_sdk tables without the columns used here. An empty database passes.
    static func check(_ db: Database, path: String) throws {
        let application = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        guard application == 0 else {
            throw InstallationStoreError(.foreign, path: path,
                                         detail: "a SQLite database with application_id \(application) (another program's)")
        }
        let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"))
        if !tables.isEmpty, tables.isDisjoint(with: all) {
            throw InstallationStoreError(.foreign, path: path,
                                         detail: "a SQLite database with \(tables.count) table(s), none of them slack_installations, slack_bots or sockeye_installations")
        }
        if tables.contains(meta) {
            let version = try Int.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM sockeye_store_meta WHERE key = 'schema_version'") ?? 0
            guard version <= InstallationStore.schemaVersion else {
                throw InstallationStoreError(.incompatible, path: path,
                                             detail: "schema version \(version) is newer than this sockeyed's (\(InstallationStore.schemaVersion))")
            }
        }
        for (table, needed) in [(slackInstallations, slackInstallationsColumns), (slackBots, slackBotsColumns)] where tables.contains(table) {
            let present = Set(try db.columns(in: table).map(\.name))
            let missing = needed.subtracting(present)
            guard missing.isEmpty else {
                throw InstallationStoreError(.incompatible, path: path,
                                             detail: "\(table) lacks the column(s) \(missing.sorted().joined(separator: ", ")) (written by a slack_sdk older than 3.8?)")
            }
        }
    }

    /// Creates the tables and indexes that are missing (all of them in a new file; sockeyed's
    /// own beside slack_sdk's in a file slack_sdk made). Rows are never touched.
    static func create(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE IF NOT EXISTS slack_installations (
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
                bot_refresh_token text,
                bot_token_expires_at datetime,
                user_id text not null,
                user_token text,
                user_scopes text,
                user_refresh_token text,
                user_token_expires_at datetime,
                incoming_webhook_url text,
                incoming_webhook_channel text,
                incoming_webhook_channel_id text,
                incoming_webhook_configuration_url text,
                is_enterprise_install boolean not null default 0,
                token_type text,
                installed_at datetime not null default current_timestamp
            );
            CREATE INDEX IF NOT EXISTS slack_installations_idx
                ON slack_installations (client_id, enterprise_id, team_id, user_id, installed_at);
            CREATE TABLE IF NOT EXISTS slack_bots (
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
                bot_refresh_token text,
                bot_token_expires_at datetime,
                is_enterprise_install boolean not null default 0,
                installed_at datetime not null default current_timestamp
            );
            CREATE INDEX IF NOT EXISTS slack_bots_idx
                ON slack_bots (client_id, enterprise_id, team_id, installed_at);

            -- sockeyed looks a workspace install up by its team id alone (team ids are unique
            -- across Slack); slack_sdk's indexes begin with the enterprise id.
            CREATE INDEX IF NOT EXISTS sockeye_slack_installations_by_team
                ON slack_installations (client_id, team_id, installed_at);
            CREATE INDEX IF NOT EXISTS sockeye_slack_bots_by_team
                ON slack_bots (client_id, team_id, installed_at);

            CREATE TABLE IF NOT EXISTS sockeye_store_meta (
                key TEXT NOT NULL PRIMARY KEY,
                value TEXT NOT NULL
            ) WITHOUT ROWID;
            INSERT OR IGNORE INTO sockeye_store_meta (key, value) VALUES ('schema_version', '\(InstallationStore.schemaVersion)');

            -- One row per installation of the app (client_id): what sockeyed keeps beside
            -- slack_sdk's rows, never a token. Times are seconds since 1970.
            CREATE TABLE IF NOT EXISTS sockeye_installations (
                client_id TEXT NOT NULL,
                id TEXT NOT NULL,
                app_id TEXT NOT NULL,
                enterprise_id TEXT,
                enterprise_name TEXT,
                enterprise_url TEXT,
                team_id TEXT,
                team_name TEXT,
                is_enterprise_install INTEGER NOT NULL CHECK (is_enterprise_install IN (0, 1)),
                installer_user_id TEXT NOT NULL,
                bot_id TEXT,
                bot_user_id TEXT,
                bot_scopes TEXT,
                state TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
                reason TEXT,
                installed_at INTEGER NOT NULL,
                updated_at INTEGER NOT NULL,
                revoked_at INTEGER,
                PRIMARY KEY (client_id, id)
            );
            """)
    }
}
