import GRDB
import GRDBSQLite

/// The spool's insert, bound through SQLite's C API: GRDB's `StatementArguments` box every
/// value, which cost more than SQLite's own work on the hot path (~10 µs of 25 per event).
/// The statement is prepared once (GRDB's statement cache).
enum BatchInsert {
    /// Tells SQLite to copy bound text before the call returns (the Swift buffers it points
    /// into only live for the call).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Inserts `rows` with `sql` (12 parameters, in `SpoolRow` order) inside the caller's
    /// transaction; returns how many rows were new.
    static func run(_ rows: [SpoolRow], sql: String, in db: Database) throws -> Int {
        guard let connection = db.sqliteConnection else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "closed") }
        // GRDB's cached statement, driven directly; left reset and unbound for GRDB.
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        var code: Int32
        var inserted = 0
        for row in rows {
            bind(statement, 1, row.app)
            bind(statement, 2, row.envelopeType)
            bind(statement, 3, row.envelopeID)
            bind(statement, 4, row.eventType)
            bind(statement, 5, row.team)
            bind(statement, 6, row.channel)
            bind(statement, 7, row.user)
            bind(statement, 8, row.eventID)
            sqlite3_bind_int64(statement, 9, Int64(row.retryAttempt))
            bind(statement, 10, row.retryReason)
            sqlite3_bind_int64(statement, 11, row.receivedAtMilliseconds)
            bind(statement, 12, row.line)
            code = sqlite3_step(statement)
            guard code == SQLITE_DONE else { throw error(connection, code, sql) }
            inserted += Int(sqlite3_changes(connection))
            sqlite3_reset(statement)
        }
        return inserted
    }

    static func bind(_ statement: OpaquePointer, _ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(statement, index)
            return
        }
        text.withUTF8 { bytes in
            // An empty buffer may have no address: SQLite would read that as NULL.
            let start = bytes.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) }
            if let start {
                sqlite3_bind_text(statement, index, start, Int32(bytes.count), transient)
            } else {
                sqlite3_bind_text(statement, index, "", 0, transient)
            }
        }
    }

    static func error(_ connection: OpaquePointer, _ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
                      message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }
}
