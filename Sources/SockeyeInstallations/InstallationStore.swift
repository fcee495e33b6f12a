import Foundation
import GRDB
import Logging

/// The installations of one Slack app (OAuth installs), in a SQLite file that Bolt for Python
/// reads as is.
///
/// **Layout.** The tokens live in `slack_installations` and `slack_bots`, the tables of
/// python slack_sdk's `SQLite3InstallationStore`, written the way it writes them (`enterprise_id`
/// and `team_id` `''` when absent, `team_id` `''` for an org-wide install, scopes comma-joined,
/// `*_expires_at` integer seconds, `installed_at` UTC text `YYYY-MM-DD HH:MM:SS`). An
/// unmodified Bolt app with `SQLite3InstallationStore(database: <file>, client_id: <id>)`
/// authorizes from the same file. Beside them, `sockeye_installations` keeps what sockeyed
/// adds (state, revocation reason, first install time; never a token) and `sockeye_store_meta`
/// the schema version. A file slack_sdk created first is adopted with its rows. A save, a
/// rotation or a revocation replaces the key's rows in one transaction, so slack_sdk (which
/// picks the newest `installed_at`, to the second) never sees two current rows.
///
/// **Other writers.** Other sockeyed nodes, the CLI and Bolt apps may share the file: every
/// call reads afresh in its own transaction (nothing is cached here), rows another program
/// wrote are read like ours, and a rotation is a compare-and-swap on the refresh token.
///
/// **Threading and cost.** Safe from any thread: calls go through one connection, one at a
/// time. Every call is one SQLite transaction and blocks its caller until it is done (writes
/// are fsynced, `synchronous = FULL`), waiting at most the busy timeout for another process's
/// write lock. Installations are few; no call is meant for a hot path (the daemon keeps its
/// own index, built from `activeInstallations()` at start and after changes).
///
/// **Secrets.** Errors, warnings and descriptions name ids, never tokens. The file and its
/// `-wal`/`-shm` files are mode 0600, and deleted rows are overwritten (`secure_delete`).
public final class InstallationStore: Sendable {
    /// The version of sockeyed's own tables (`sockeye_store_meta.schema_version`).
    public static let schemaVersion = 1

    /// How the store opens the file.
    public struct Options: Sendable {
        /// Read only (the CLI's listing): the file must exist and is never changed; the
        /// changing calls throw `cannotOpen`.
        public var readOnly = false
        /// How long a call waits for another connection's lock before it fails as `locked`.
        public var busyTimeoutSeconds: Double = 5
        /// Where the warnings of `warnings` are logged too (nil: not logged).
        public var logger: Logger?
        /// Options for a writer by default; `readOnly` for the CLI.
        public init(readOnly: Bool = false, busyTimeoutSeconds: Double = 5, logger: Logger? = nil) {
            self.readOnly = readOnly
            self.busyTimeoutSeconds = busyTimeoutSeconds
            self.logger = logger
        }
    }

    /// The file.
    public let path: String
    /// The Slack app's OAuth client id: the `client_id` of its rows in the slack_sdk tables
    /// (one file may hold several apps' rows, as with slack_sdk).
    public let clientID: String
    /// What the store noticed while opening that the operator should know (a file that was
    /// readable by others and was made 0600). Never holds a token.
    public let warnings: [String]
    let readOnly: Bool
    let database: DatabaseQueue

    /// Opens (and, unless read only, creates) the installation store at `path` for the app
    /// whose OAuth client id is `clientID`. A new file is made mode 0600; an existing one that
    /// others may read is made 0600 (said in `warnings`). A file that is not a SQLite database,
    /// is damaged, has another program's `application_id`, or holds tables but none of an
    /// installation store's is refused and left as it is. A file slack_sdk created is adopted:
    /// its rows are kept and sockeyed's tables are added beside them.
    ///
    /// Cost: opening the file, a look at its schema, and (for a writer) one transaction that
    /// creates the missing tables.
    public init(path: String, clientID: String, options: Options = Options()) throws(InstallationStoreError) {
        self.path = path
        self.clientID = clientID
        self.readOnly = options.readOnly
        var warnings: [String] = []
        let exists = FileManager.default.fileExists(atPath: path)
        if options.readOnly, !exists {
            throw InstallationStoreError(.missing, path: path, detail: "no such file")
        }
        if !exists {
            // Made here, mode 0600, before SQLite opens it: SQLite would make it 0644 (under
            // the usual umask), and it gives the -wal and -shm files the database's own mode.
            let made = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            if made >= 0 {
                _ = Glibc.close(made)
            } else if errno != EEXIST {
                throw InstallationStoreError(.cannotOpen, path: path, detail: "cannot create the file: \(String(cString: strerror(errno)))")
            }
        }
        do {
            if exists, !options.readOnly {
                // Look before the writer switches the file to WAL mode: a file that is not ours
                // to adopt must be left exactly as it is.
                var look = Configuration()
                look.readonly = true
                look.busyMode = .timeout(options.busyTimeoutSeconds)
                let reader = try DatabaseQueue(path: path, configuration: look)
                defer { try? reader.close() }
                try reader.read { db in try StoreSchema.check(db, path: path) }
            }
            // Only a file found fit is tightened, before SQLite opens it (it gives a new -wal
            // and -shm the database's mode).
            warnings += Self.tightenModes(path: path, change: !options.readOnly)
            var configuration = Configuration()
            configuration.readonly = options.readOnly
            configuration.busyMode = .timeout(options.busyTimeoutSeconds)
            configuration.label = "installations"
            if !options.readOnly {
                configuration.journalMode = .wal
                configuration.prepareDatabase { db in
                    // A deleted or replaced token is overwritten in the page, not just unlinked.
                    try db.execute(sql: "PRAGMA secure_delete = ON")
                }
            }
            database = try DatabaseQueue(path: path, configuration: configuration)
            if options.readOnly {
                try database.read { db in try StoreSchema.check(db, path: path) }
            } else {
                try database.writeWithoutTransaction { db in
                    // After GRDB's WAL set-up, which sets NORMAL: every commit is fsynced (an
                    // install or a rotated token pair must survive a power cut; the old refresh
                    // token no longer works).
                    try db.execute(sql: "PRAGMA synchronous = FULL")
                    try db.inTransaction(.immediate) {
                        // Checked again under the lock: another process may have changed it.
                        try StoreSchema.check(db, path: path)
                        try StoreSchema.create(db)
                        return .commit
                    }
                }
            }
        } catch {
            throw InstallationStoreError.classify(error, path: path)
        }
        self.warnings = warnings
        if let logger = options.logger {
            for warning in warnings { logger.warning("\(warning)", metadata: ["path": "\(path)"]) }
        }
    }

    /// Makes the file and its -wal and -shm files (left from an earlier, looser file) mode
    /// 0600 when group or others may read or write them, and says so; `change` false only
    /// says so.
    static func tightenModes(path: String, change: Bool) -> [String] {
        var warnings: [String] = []
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            guard stat(file, &info) == 0 else { continue }
            let bits = info.st_mode & 0o777
            guard bits & 0o077 != 0 else { continue }
            let was = String(bits, radix: 8)
            if !change {
                warnings.append("\(file) is mode \(was): others may read the tokens in it; make it 0600 (chmod 600)")
            } else if chmod(file, 0o600) == 0 {
                warnings.append("\(file) was mode \(was) (others could read the tokens in it); it is now 0600")
            } else {
                warnings.append("\(file) is mode \(was) (others may read the tokens in it) and could not be made 0600: \(String(cString: strerror(errno)))")
            }
        }
        return warnings
    }

    /// Closes the connection. Calls after this throw.
    public func close() {
        try? database.close()
    }

    // MARK: transactions

    /// `body` in one read transaction: a snapshot of what is committed now, by any process.
    func read<T>(_ body: (Database) throws -> T) throws(InstallationStoreError) -> T {
        do {
            return try database.read { db in try body(db) }
        } catch {
            throw InstallationStoreError.classify(error, path: path)
        }
    }

    /// `body` in one write transaction, begun IMMEDIATE: the write lock is held from its first
    /// read, so what it reads cannot change under it (the compare-and-swap of a rotation).
    /// `afterCommit`, when given, runs outside the transaction (a checkpoint), its failure ignored.
    func write<T>(_ body: (Database) throws -> T, afterCommit: ((Database) throws -> Void)? = nil) throws(InstallationStoreError) -> T {
        guard !readOnly else {
            throw InstallationStoreError(.cannotOpen, path: path, detail: "the store was opened read only")
        }
        do {
            return try database.writeWithoutTransaction { db in
                var result: T?
                try db.inTransaction(.immediate) {
                    result = try body(db)
                    return .commit
                }
                if let afterCommit { try? afterCommit(db) }
                return result!
            }
        } catch {
            throw InstallationStoreError.classify(error, path: path)
        }
    }

    /// Moves the WAL into the database file and empties it, so deleted tokens (already
    /// overwritten in their pages by `secure_delete`) are left in neither file. Best effort:
    /// a reader in another process may hold the WAL's frames for a while.
    static func scrubWAL(_ db: Database) throws {
        try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
    }
}
