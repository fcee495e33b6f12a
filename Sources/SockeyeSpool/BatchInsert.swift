import GRDB
import GRDBSQLite
import SockeyeSinkKit

/// What the spool's insert reads from one event: the columns of the `events` table.
/// `SpoolRow` (tools, tests) and the daemon's `EventRecord` (the hot path, whose line is
/// bound from its bytes without becoming a `String` first) both provide it.
protocol SpoolInsertable {
    var app: String { get }
    var envelopeType: String { get }
    var envelopeID: String { get }
    var eventType: String? { get }
    var team: String? { get }
    var channel: String? { get }
    var user: String? { get }
    var eventID: String? { get }
    var retryAttempt: Int { get }
    var retryReason: String? { get }
    var receivedAtMilliseconds: Int64 { get }
    /// Calls `body` with the normalized line's UTF-8 bytes.
    func withLineBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R
}

extension SpoolRow: SpoolInsertable {
    func withLineBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var line = line
        return line.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

extension EventRecord: SpoolInsertable {
    func withLineBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        line.withUnsafeBytes(body)
    }
}

/// Rows for one transaction: the batches of the callers one group commit serves.
enum SpoolBatch: Sendable {
    case rows([SpoolRow])
    case records([EventRecord])

    var count: Int {
        switch self {
        case .rows(let rows): rows.count
        case .records(let records): records.count
        }
    }
}

/// The spool's insert, bound through SQLite's C API: GRDB's `StatementArguments` box every
/// value, which cost more than SQLite's own work on the hot path (~10 µs of 25 per event).
/// The statement is prepared once (GRDB's statement cache).
enum BatchInsert {
    /// Tells SQLite to copy bound text before the call returns (the Swift buffers it points
    /// into only live for the call).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Inserts every batch with `sql` (12 parameters, in `SpoolRow` order) inside the
    /// caller's transaction; returns how many rows were new.
    static func run(_ batches: [SpoolBatch], sql: String, in db: Database) throws -> Int {
        guard let connection = db.sqliteConnection else { throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "closed") }
        // GRDB's cached statement, driven directly; left reset and unbound for GRDB.
        let statement = try db.cachedStatement(sql: sql).sqliteStatement
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        var inserted = 0
        for batch in batches {
            switch batch {
            case .rows(let rows): inserted += try run(rows, statement, connection, sql)
            case .records(let records): inserted += try run(records, statement, connection, sql)
            }
        }
        return inserted
    }

    private static func run<Row: SpoolInsertable>(_ rows: [Row], _ statement: OpaquePointer, _ connection: OpaquePointer,
                                                  _ sql: String) throws -> Int {
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
            row.withLineBytes { bind(statement, 12, $0) }
            let code = sqlite3_step(statement)
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
        text.withUTF8 { bind(statement, index, UnsafeRawBufferPointer($0)) }
    }

    /// Binds UTF-8 `bytes` as text (an empty buffer as the empty string, never NULL).
    static func bind(_ statement: OpaquePointer, _ index: Int32, _ bytes: UnsafeRawBufferPointer) {
        if let start = bytes.baseAddress?.assumingMemoryBound(to: CChar.self) {
            sqlite3_bind_text(statement, index, start, Int32(bytes.count), transient)
        } else {
            sqlite3_bind_text(statement, index, "", 0, transient)
        }
    }

    static func error(_ connection: OpaquePointer, _ code: Int32, _ sql: String) -> DatabaseError {
        DatabaseError(resultCode: ResultCode(rawValue: sqlite3_extended_errcode(connection)),
                      message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }
}
