import Foundation
import GRDB

/// Which events a read selects.
public struct SpoolFilter: Sendable {
    public var app: String?
    /// Matches `event_type` or `envelope_type`.
    public var type: String?
    /// Received at or after (milliseconds since 1970).
    public var sinceMilliseconds: Int64?
    /// `seq` at or after.
    public var fromSeq: Int64?
    public var limit: Int?
    public init(app: String? = nil, type: String? = nil, sinceMilliseconds: Int64? = nil, fromSeq: Int64? = nil,
                limit: Int? = nil) {
        self.app = app
        self.type = type
        self.sinceMilliseconds = sinceMilliseconds
        self.fromSeq = fromSeq
        self.limit = limit
    }

    /// The WHERE clause and its arguments.
    var clause: (sql: String, arguments: StatementArguments) {
        var conditions: [String] = []
        var arguments: StatementArguments = []
        if let app { conditions.append("app = ?"); arguments += [app] }
        if let type { conditions.append("(event_type = ? OR envelope_type = ?)"); arguments += [type, type] }
        if let sinceMilliseconds { conditions.append("received_at >= ?"); arguments += [sinceMilliseconds] }
        if let fromSeq { conditions.append("seq >= ?"); arguments += [fromSeq] }
        return (conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND "), arguments)
    }
}

/// What a spool holds.
public struct SpoolStatistics: Sendable, Equatable {
    public var events: Int
    public var firstSeq: Int64?
    public var lastSeq: Int64?
    public var oldestMilliseconds: Int64?
    public var newestMilliseconds: Int64?
    /// Bytes of the database's pages in use (the WAL not counted).
    public var usedBytes: Int64
}

extension SpoolStore {
    static let columns = """
        seq, app, envelope_type, envelope_id, event_type, team, channel, user, event_id, retry_attempt, retry_reason, \
        received_at, line
        """

    static func row(_ r: Row) -> SpoolRow {
        SpoolRow(seq: r[0], app: r[1], envelopeType: r[2], envelopeID: r[3], eventType: r[4], team: r[5], channel: r[6],
                 user: r[7], eventID: r[8], retryAttempt: r[9], retryReason: r[10], receivedAtMilliseconds: r[11],
                 line: r[12])
    }

    /// Counts and bounds.
    public func statistics() throws(SpoolError) -> SpoolStatistics {
        do {
            return try database.read { db in
                let row = try Row.fetchOne(db, sql: """
                    SELECT count(*), min(seq), max(seq), min(received_at), max(received_at) FROM events
                    """)
                return SpoolStatistics(events: row?[0] ?? 0, firstSeq: row?[1], lastSeq: row?[2],
                                       oldestMilliseconds: row?[3], newestMilliseconds: row?[4],
                                       usedBytes: try Self.pageUsage(db).usedBytes)
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// The events `filter` selects, in `seq` order. Without a start (`fromSeq`, `since`),
    /// the newest `limit` ones.
    public func rows(_ filter: SpoolFilter) throws(SpoolError) -> [SpoolRow] {
        let (clause, arguments) = filter.clause
        let fromStart = filter.fromSeq != nil || filter.sinceMilliseconds != nil
        let order = fromStart || filter.limit == nil ? "ASC" : "DESC"
        let limit = filter.limit.map { " LIMIT \(max(0, $0))" } ?? ""
        do {
            let found = try database.read { db in
                try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM events \(clause) ORDER BY seq \(order)\(limit)",
                                 arguments: arguments).map(Self.row)
            }
            return order == "DESC" ? found.reversed() : found
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// The event with sequence number `seq`, or else with event id or envelope id `key`.
    public func find(_ key: String) throws(SpoolError) -> [SpoolRow] {
        do {
            return try database.read { db in
                if let seq = Int64(key) {
                    return try Row.fetchAll(db, sql: "SELECT \(Self.columns) FROM events WHERE seq = ?", arguments: [seq])
                        .map(Self.row)
                }
                return try Row.fetchAll(db, sql: """
                    SELECT \(Self.columns) FROM events WHERE event_id = ? OR envelope_id = ? ORDER BY seq
                    """, arguments: [key, key]).map(Self.row)
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// Calls `body` with each selected event in `seq` order, reading in one snapshot without
    /// holding every row in memory. Returns how many were visited.
    @discardableResult
    public func forEach(_ filter: SpoolFilter, _ body: (SpoolRow) throws -> Void) throws(SpoolError) -> Int {
        let (clause, arguments) = filter.clause
        let limit = filter.limit.map { " LIMIT \(max(0, $0))" } ?? ""
        do {
            return try database.read { db in
                var count = 0
                let cursor = try Row.fetchCursor(db, sql: "SELECT \(Self.columns) FROM events \(clause) ORDER BY seq ASC\(limit)",
                                                 arguments: arguments)
                while let row = try cursor.next() {
                    try body(Self.row(row))
                    count += 1
                }
                return count
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// How many events were received before `cutoffMilliseconds` (all when nil).
    public func count(receivedBefore cutoffMilliseconds: Int64?) throws(SpoolError) -> Int {
        do {
            return try database.read { db in
                if let cutoffMilliseconds {
                    return try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE received_at < ?",
                                            arguments: [cutoffMilliseconds]) ?? 0
                }
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }

    /// Deletes the events received before `cutoffMilliseconds`, or all when nil, then
    /// returns free pages to the file system. `seq` numbers are never reused.
    public func purge(receivedBefore cutoffMilliseconds: Int64?) throws(SpoolError) -> Int {
        do {
            return try database.writeWithoutTransaction { db in
                var removed = 0
                try db.inTransaction(.immediate) {
                    if let cutoffMilliseconds {
                        try db.execute(sql: "DELETE FROM events WHERE received_at < ?", arguments: [cutoffMilliseconds])
                    } else {
                        try db.execute(sql: "DELETE FROM events")
                    }
                    removed = db.changesCount
                    return .commit
                }
                try db.execute(sql: "PRAGMA incremental_vacuum")
                return removed
            }
        } catch {
            throw SpoolError.classify(error, path: path)
        }
    }
}
