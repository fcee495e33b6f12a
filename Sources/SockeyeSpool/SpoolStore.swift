import Foundation
import GRDB

/// The spool file: a SQLite database in WAL mode with one `events` table (schema and the
/// queries consumers run: `docs/spool.md`).
///
/// Writes go through one connection on GRDB's serial queue, each batch in one transaction
/// (`insert`), so a batch is on disk (fsynced, with `synchronous = FULL`) when `insert`
/// returns. Readers (`sockeyed spool …`, consumers with plain SQL) use their own
/// connections: WAL lets them read while the daemon writes.
///
/// An event is stored at most once: a unique index on (app, team, event_id) for events that
/// have an id, on (app, envelope_id) for those that do not, and `INSERT OR IGNORE`. Slack's
/// redelivery of an event the daemon stored but could not ack (a crash, a nack of a later
/// sink) is accepted without a second row.
public final class SpoolStore: Sendable {
    /// `PRAGMA application_id` of a spool ("SKSP"): a database with another id is not ours.
    public static let applicationID: Int32 = 0x534B_5350
    /// `PRAGMA user_version`: the schema version this build writes and reads.
    public static let schemaVersion = 1

    /// How the store opens the file.
    public struct Options: Sendable {
        /// Read only (the `list`/`show`/`replay` commands): the file must exist.
        public var readOnly = false
        /// How long a write waits for another connection's lock before it fails as `locked`.
        public var busyTimeoutSeconds: Double = 5
        /// `FULL` fsyncs the WAL at every commit (an acked event survives a power cut);
        /// `NORMAL` survives a crash of the process but not of the machine.
        public var synchronousFull = true
        public init() {}
    }

    public let path: String
    let database: DatabaseQueue
    /// The page size of a new spool file.
    static let pageSize = 32768
    /// WAL size at which the writer checkpoints itself (when the checkpointer falls behind).
    static let backstopWALBytes = 128 << 20

    /// Opens (and, for a writer, creates) the spool at `path`. A file that is not a SQLite
    /// database, is damaged, or belongs to another program is reported, never replaced.
    public init(path: String, options: Options = Options()) throws(SpoolError) {
        self.path = path
        let exists = FileManager.default.fileExists(atPath: path)
        if options.readOnly, !exists {
            throw SpoolError(.missing, path: path, detail: "no such file")
        }
        var configuration = Configuration()
        configuration.readonly = options.readOnly
        configuration.busyMode = .timeout(options.busyTimeoutSeconds)
        configuration.label = "spool"
        let synchronous = options.synchronousFull ? "FULL" : "NORMAL"
        if !options.readOnly {
            configuration.journalMode = .wal
            configuration.prepareDatabase { db in
                // Takes effect only on a new file (before WAL mode writes its first page):
                // freed pages then go back to the file system on `incremental_vacuum`.
                try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
                // The unique indexes are looked up at random on every insert: keep their
                // pages in memory (32 MiB at most) rather than reading them back.
                try db.execute(sql: "PRAGMA cache_size = -32768")
                // After a checkpoint, the WAL file is cut back to this size.
                try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
            }
        }
        do {
            if exists, !options.readOnly {
                // Look before the writer switches the file to WAL mode: a file that is not a
                // spool must be left exactly as it is.
                var look = Configuration()
                look.readonly = true
                look.busyMode = .timeout(options.busyTimeoutSeconds)
                let reader = try DatabaseQueue(path: path, configuration: look)
                defer { try? reader.close() }
                _ = try reader.read { db in try Self.checkSpool(db, path: path, allowEmpty: true) }
            }
            if !exists, !options.readOnly {
                // The file is made here, mode 0600, before SQLite opens it: SQLite would make it
                // 0644, and it gives the -wal and -shm files the database's own mode. Events
                // carry message text and user ids, for the daemon's user only.
                let made = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
                if made >= 0 { _ = Glibc.close(made) }
                // A new file gets its page size before WAL mode fixes it: 32 KiB pages hold about
                // twenty 1 KiB events, so the b-trees are shallower and a batch dirties and
                // writes fewer pages (4 KiB pages: 40 000 durable events/s end to end; 32 KiB: 55 000).
                let create = try DatabaseQueue(path: path)
                try create.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA page_size = \(Self.pageSize); PRAGMA auto_vacuum = INCREMENTAL; VACUUM")
                }
                try create.close()
            }
            database = try DatabaseQueue(path: path, configuration: configuration)
            if !options.readOnly {
                // After GRDB's WAL set-up, which sets NORMAL.
                try database.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
                    // `SpoolCheckpointer` checkpoints from its own connection; the writer's own
                    // automatic checkpoint is the backstop, when the WAL reaches 128 MiB.
                    let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
                    try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.backstopWALBytes / max(pageSize, 512))")
                }
            }
            if options.readOnly {
                _ = try database.read { db in try Self.checkSpool(db, path: path, allowEmpty: false) }
            } else {
                try database.writeWithoutTransaction { db in
                    if try Self.checkSpool(db, path: path, allowEmpty: true) { return }
                    try db.inTransaction(.immediate) {
                        // Another process may have created it meanwhile.
                        if try Self.checkSpool(db, path: path, allowEmpty: true) { return .commit }
                        try Self.createSchema(db)
                        return .commit
                    }
                }
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// True when `db` holds a spool of this version; false for an empty database (when
    /// allowed). Throws `notASpool` for anything else.
    @discardableResult
    static func checkSpool(_ db: Database, path: String, allowEmpty: Bool) throws -> Bool {
        let application = try Int32.fetchOne(db, sql: "PRAGMA application_id") ?? 0
        let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
        let tables = try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_schema") ?? 0
        if application == applicationID {
            guard version <= schemaVersion else {
                throw SpoolError(.notASpool, path: path,
                                 detail: "spool schema version \(version) is newer than this sockeyed's (\(schemaVersion))")
            }
            return true
        }
        if application == 0, version == 0, tables == 0, allowEmpty { return false }
        throw SpoolError(.notASpool, path: path,
                         detail: tables == 0 ? "an empty database without the spool's application_id"
                                             : "a SQLite database with \(tables) schema object(s) and application_id \(application)")
    }

    static func createSchema(_ db: Database) throws {
        try db.execute(sql: """
            CREATE TABLE events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                app TEXT NOT NULL,
                envelope_type TEXT NOT NULL,
                envelope_id TEXT NOT NULL,
                event_type TEXT,
                team TEXT,
                channel TEXT,
                user TEXT,
                event_id TEXT,
                retry_attempt INTEGER NOT NULL,
                retry_reason TEXT,
                received_at INTEGER NOT NULL,
                line TEXT NOT NULL
            );
            CREATE UNIQUE INDEX events_by_event_id ON events(app, ifnull(team, ''), event_id) WHERE event_id IS NOT NULL;
            CREATE UNIQUE INDEX events_by_envelope_id ON events(app, envelope_id) WHERE event_id IS NULL;
            PRAGMA application_id = \(applicationID);
            PRAGMA user_version = \(schemaVersion);
            """)
    }

    static let insertSQL = """
        INSERT OR IGNORE INTO events (app, envelope_type, envelope_id, event_type, team, channel, user, event_id,
                                      retry_attempt, retry_reason, received_at, line)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """

    /// Stores `rows` in one transaction, committed when this returns. Rows already stored
    /// (same event id, or same envelope id for events without one) are skipped; returns how
    /// many were new.
    @discardableResult
    public func insert(_ rows: [SpoolRow]) async throws(SpoolError) -> Int {
        try await insert([.rows(rows)])
    }

    /// `insert` for the batches of several callers, in one transaction.
    func insert(_ batches: [SpoolBatch]) async throws(SpoolError) -> Int {
        do {
            return try await database.writeWithoutTransaction { db in try Self.insert(batches, into: db) }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    static func insert(_ batches: [SpoolBatch], into db: Database) throws -> Int {
        var inserted = 0
        try db.inTransaction(.immediate) {
            inserted = try BatchInsert.run(batches, sql: insertSQL, in: db)
            return .commit
        }
        return inserted
    }

    // MARK: retention

    /// Deletes the events received before `cutoffMilliseconds` among the oldest `limit`
    /// (by `seq`); returns how many. There is no index on `received_at` (it cost every
    /// insert about 5 %): events arrive in `seq` order, so the oldest by `seq` are the oldest
    /// received, and a chunk stops at the first young one it finds in that order.
    public func removeReceived(before cutoffMilliseconds: Int64, limit: Int = 20_000) async throws(SpoolError) -> Int {
        do {
            return try await database.write { db in
                try db.execute(sql: """
                    DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?) AND received_at < ?
                    """, arguments: [limit, cutoffMilliseconds])
                return db.changesCount
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// Deletes the oldest events (up to `limit`) until the pages in use fit `maxBytes`, then
    /// gives free pages back to the file system; returns how many events went.
    public func removeOldest(toFit maxBytes: Int64, limit: Int = 20_000) async throws(SpoolError) -> Int {
        do {
            return try await database.writeWithoutTransaction { db in
                var removed = 0
                let pages = try Self.pageUsage(db)
                if pages.usedBytes > maxBytes {
                    let span = try Int64.fetchOne(db, sql: "SELECT max(seq) - min(seq) + 1 FROM events") ?? 0
                    if span > 0 {
                        let perEvent = max(1, pages.usedBytes / span)
                        let excess = pages.usedBytes - maxBytes
                        // A little more than the estimate (1 % of the limit), so one pass usually suffices.
                        let count = min(Int64(limit), (excess + maxBytes / 100) / perEvent + 1)
                        try db.inTransaction(.immediate) {
                            try db.execute(sql: "DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)",
                                           arguments: [count])
                            removed = db.changesCount
                            return .commit
                        }
                    }
                }
                let after = try Self.pageUsage(db)
                if after.freePages > 0, after.freePages * 10 >= after.pageCount || after.fileBytes > maxBytes {
                    try db.execute(sql: "PRAGMA incremental_vacuum")
                }
                return removed
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    struct PageUsage {
        var pageCount: Int64
        var freePages: Int64
        var pageSize: Int64
        var usedBytes: Int64 { (pageCount - freePages) * pageSize }
        var fileBytes: Int64 { pageCount * pageSize }
    }

    static func pageUsage(_ db: Database) throws -> PageUsage {
        PageUsage(pageCount: try Int64.fetchOne(db, sql: "PRAGMA page_count") ?? 0,
                  freePages: try Int64.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0,
                  pageSize: try Int64.fetchOne(db, sql: "PRAGMA page_size") ?? 4096)
    }

    /// The writer connection's `PRAGMA synchronous`: 2 (FULL: every commit is fsynced) or
    /// 1 (NORMAL).
    public func synchronousLevel() throws(SpoolError) -> Int {
        do {
            return try database.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// Moves the WAL's pages into the database file and truncates the WAL (at close).
    public func checkpoint() async {
        _ = try? await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Closes the connection.
    public func close() {
        try? database.close()
    }
}
