import Foundation
import GRDB
import SockeyeSpool
import Testing

@Suite("the spool store")
struct SpoolStoreTests {
    @Test("a batch is one transaction; rows read back with every column, in seq order")
    func storesAndReadsBack() async throws {
        let path = temporaryDirectory() + "/spool.db"
        let store = try SpoolStore(path: path)
        let rows = (1...50).map { row($0) }
        #expect(try await store.insert(rows) == 50)
        let back = try store.rows(SpoolFilter())
        #expect(back.count == 50)
        #expect(back.map(\.eventID) == rows.map(\.eventID))
        #expect(zip(back, back.dropFirst()).allSatisfy { $0.seq < $1.seq })
        var first = back[0]
        first.seq = 0
        #expect(first == rows[0])
        store.close()

        // Plain SQL, as a consumer reads it: WAL mode, the documented columns and ids.
        let reader = try DatabaseQueue(path: path)
        let facts = try await reader.read { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"),
             try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE app = 'app' AND event_type = 'message'"),
             try String.fetchOne(db, sql: "SELECT json_extract(line, '$.event_id') FROM events ORDER BY seq LIMIT 1"),
             try Int32.fetchOne(db, sql: "PRAGMA application_id"))
        }
        #expect(facts.0 == "wal" && facts.1 == 50 && facts.2 == "Ev0000000000000001" && facts.3 == SpoolStore.applicationID)
    }

    @Test("the writer fsyncs every commit (synchronous FULL) unless asked for NORMAL")
    func synchronousFull() throws {
        let folder = temporaryDirectory()
        #expect(try SpoolStore(path: folder + "/full.db").synchronousLevel() == 2)
        var normal = SpoolStore.Options()
        normal.synchronousFull = false
        #expect(try SpoolStore(path: folder + "/normal.db", options: normal).synchronousLevel() == 1)
    }

    @Test("a redelivered event (same app, team and event id; or same envelope id without one) is stored once")
    func exactlyOnce() async throws {
        let store = try SpoolStore(path: temporaryDirectory() + "/spool.db")
        #expect(try await store.insert((1...10).map { row($0) }) == 10)
        // Slack's retry: same event id, a new envelope id and retry_attempt 1.
        var retry = row(3)
        retry.envelopeID = "env-retry"
        retry.retryAttempt = 1
        #expect(try await store.insert([retry, row(11)]) == 1)
        // The same event id for another app or team is another event.
        #expect(try await store.insert([row(3, app: "other"), row(3, team: "T2")]) == 2)
        // No team: still de-duplicated (NULL is not distinct here).
        #expect(try await store.insert([row(20, team: nil), row(20, team: nil)]) == 1)
        // No event id (slash commands, interactivity): by envelope id.
        #expect(try await store.insert([row(30, eventID: false), row(30, eventID: false), row(31, eventID: false)]) == 2)
        #expect(try store.statistics().events == 16)
    }

    @Test("seq numbers are never reused, even after purging everything")
    func seqNeverReused() async throws {
        let path = temporaryDirectory() + "/spool.db"
        let store = try SpoolStore(path: path)
        try await store.insert((1...5).map { row($0) })
        #expect(try store.purge(receivedBefore: nil) == 5)
        try await store.insert([row(6)])
        #expect(try store.rows(SpoolFilter()).map(\.seq) == [6])
    }

    @Test("filters: app, type, since, from-seq and limit (the newest without a start)")
    func filters() async throws {
        let store = try SpoolStore(path: temporaryDirectory() + "/spool.db")
        var rows = (1...10).map { row($0, receivedAt: 1_000_000 + Int64($0) * 1000) }
        rows[4].app = "b"
        rows[5].eventType = "app_mention"
        try await store.insert(rows)
        #expect(try store.rows(SpoolFilter(app: "b")).map(\.eventID) == [rows[4].eventID])
        #expect(try store.rows(SpoolFilter(type: "app_mention")).count == 1)
        #expect(try store.rows(SpoolFilter(type: "events_api")).count == 10)
        #expect(try store.rows(SpoolFilter(sinceMilliseconds: 1_008_000)).map(\.seq) == [8, 9, 10])
        #expect(try store.rows(SpoolFilter(fromSeq: 9)).map(\.seq) == [9, 10])
        #expect(try store.rows(SpoolFilter(limit: 3)).map(\.seq) == [8, 9, 10])
        #expect(try store.rows(SpoolFilter(fromSeq: 2, limit: 2)).map(\.seq) == [2, 3])
        var seen: [Int64] = []
        #expect(try store.forEach(SpoolFilter(fromSeq: 7)) { seen.append($0.seq) } == 4)
        #expect(seen == [7, 8, 9, 10])
        #expect(try store.find("4").map(\.eventID) == [rows[3].eventID])
        #expect(try store.find(rows[6].eventID!).map(\.seq) == [7])
        #expect(try store.find("env-2").map(\.seq) == [2])
        #expect(try store.count(receivedBefore: 1_004_000) == 3)
        #expect(try store.purge(receivedBefore: 1_004_000) == 3)
        #expect(try store.statistics().firstSeq == 4)
    }

    @Test("retention by age deletes only older events")
    func retentionByAge() async throws {
        let store = try SpoolStore(path: temporaryDirectory() + "/spool.db")
        try await store.insert((1...100).map { row($0, receivedAt: Int64($0) * 1000) })
        #expect(try await store.removeReceived(before: 40_000) == 39)
        #expect(try await store.removeReceived(before: 40_000, limit: 10) == 0)
        #expect(try store.statistics().firstSeq == 40)
    }

    @Test("retention by size deletes the oldest events until the pages in use fit, and shrinks the file")
    func retentionBySize() async throws {
        let path = temporaryDirectory() + "/spool.db"
        let store = try SpoolStore(path: path)
        for batch in 0..<20 {
            try await store.insert((0..<100).map { row(batch * 100 + $0, size: 2000) })
        }
        let before = try store.statistics()
        #expect(before.events == 2000 && before.usedBytes > 4_000_000)
        var removed = 0
        for _ in 0..<10 { removed += try await store.removeOldest(toFit: 1_000_000) }
        let after = try store.statistics()
        #expect(after.usedBytes <= 1_000_000, "\(after)")
        #expect(after.events == 2000 - removed && after.lastSeq == before.lastSeq && after.events > 200)
        await store.checkpoint()
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        #expect(size < 2_000_000, "file \(size) bytes")
    }

    @Test("a file that is not a SQLite database is reported as corrupt and left exactly as it was")
    func corruptFile() throws {
        let path = temporaryDirectory() + "/spool.db"
        let garbage = [UInt8]((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        _ = FileManager.default.createFile(atPath: path, contents: Data(garbage))
        #expect {
            try SpoolStore(path: path)
        } throws: { error in
            guard let error = error as? SpoolError else { return false }
            return error.kind == .corrupt && error.description.contains("move it aside")
        }
        #expect(fileBytes(path) == garbage)
        #expect(throws: SpoolError.self) { try SpoolStore(path: path, options: { var o = SpoolStore.Options(); o.readOnly = true; return o }()) }
        #expect(fileBytes(path) == garbage)
    }

    @Test("another program's SQLite database is refused, not altered; a missing file is not created by readers")
    func foreignAndMissing() throws {
        let folder = temporaryDirectory()
        let foreign = try DatabaseQueue(path: folder + "/other.db")
        try foreign.write { try $0.execute(sql: "CREATE TABLE accounts (id INTEGER PRIMARY KEY); INSERT INTO accounts VALUES (1)") }
        try foreign.close()
        let before = fileBytes(folder + "/other.db")
        #expect {
            try SpoolStore(path: folder + "/other.db")
        } throws: { ($0 as? SpoolError)?.kind == .notASpool }
        #expect(fileBytes(folder + "/other.db") == before)

        var readOnly = SpoolStore.Options()
        readOnly.readOnly = true
        #expect {
            try SpoolStore(path: folder + "/missing.db", options: readOnly)
        } throws: { ($0 as? SpoolError)?.kind == .missing }
        #expect(!FileManager.default.fileExists(atPath: folder + "/missing.db"))
    }

    @Test("a write lock held by another process's connection refuses the batch as locked, and writes resume when it is released")
    func locked() async throws {
        let path = temporaryDirectory() + "/spool.db"
        var options = SpoolStore.Options()
        options.busyTimeoutSeconds = 0.2
        let store = try SpoolStore(path: path, options: options)
        try await store.insert([row(1)])
        // Another program's connection that keeps a write transaction open.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: path, configuration: configuration)
        try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE") }
        await #expect {
            try await store.insert([row(2)])
        } throws: { error in
            guard let error = error as? SpoolError else { return false }
            return error.kind == .locked && error.description.contains("fuser")
        }
        try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        #expect(try await store.insert([row(2)]) == 1)
        #expect(try store.statistics().events == 2)
    }
}
