import Foundation
import GRDB
import SockeyeDaemon
import SockeyeOperations
import SockeyeSim
import SockeyeSinkKit
import SockeyeSpool
import Testing

/// A daemon with one app whose every event goes to one spool sink.
func spoolDaemon(sim: SimServer, path: String, schedule: SpoolSink.Schedule = .init(),
                 settings: (String) -> SpoolSettings = { SpoolSettings(path: $0) }) throws -> (Daemon, @Sendable () -> SpoolSink?) {
    var app = AppSettings(name: "spooled", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
    app.poolSize = 1
    app.routes = [Route(sinks: ["spool"])]
    let config = DaemonConfiguration(apps: [app], sinks: ["spool": .spool(settings(path))], operationsAddress: nil)
    let made = SinkBox()
    let daemon = try Daemon(configuration: config, logger: quietLogger, makeSink: { name, settings in
        guard case .spool(let spool) = settings else { return nil }
        let sink = try SpoolSink(name: name, settings: spool, logger: quietLogger, schedule: schedule)
        made.sink = sink
        return sink
    })
    return (daemon, { made.sink })
}

final class SinkBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: SpoolSink?
    var sink: SpoolSink? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}

/// Event ids and row count of the spool at `path`, read with plain SQL.
func spooledEventIDs(_ path: String) throws -> (rows: Int, ids: Set<String>) {
    var readOnly = Configuration()
    readOnly.readonly = true
    let reader = try DatabaseQueue(path: path, configuration: readOnly)
    defer { try? reader.close() }
    return try reader.read { db in
        let ids = try String.fetchAll(db, sql: "SELECT event_id FROM events WHERE event_id IS NOT NULL")
        return (try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0, Set(ids))
    }
}

@Suite("the spool sink in the daemon", .serialized)
struct SpoolSinkTests {
    @Test("events are committed to the spool, then acked; each event is stored once, with its JSON line")
    func deliversToSpool() async throws {
        let sim = try SimServer({ var o = SimServer.Options(); o.config.pingInterval = 1; return o }())
        defer { sim.stop() }
        let path = temporaryDirectory() + "/spool.db"
        let (daemon, _) = try spoolDaemon(sim: sim, path: path)
        let running = Task { try await daemon.run() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 200)
        _ = sim.inject(kind: "slash_command", count: 3)
        let counters = daemon.runners[0].counters
        #expect(await eventually { counters.snapshot.acked == 203 }, "\(counters.snapshot)")
        await daemon.stop()
        try await running.value

        let stored = try spooledEventIDs(path)
        #expect(stored.rows == 203 && stored.ids.count == 200)
        var readOnly = SpoolStore.Options()
        readOnly.readOnly = true
        let rows = try SpoolStore(path: path, options: readOnly).rows(SpoolFilter())
        let commands = rows.filter { $0.envelopeType == "slash_commands" }
        #expect(commands.count == 3 && commands.allSatisfy { $0.eventType == "/deploy" && $0.eventID == nil })
        let line = try #require(rows.first?.line)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["app"] as? String == "spooled" && object["event_id"] as? String == rows.first?.eventID)
        #expect(sim.report().total.acked == 203)
    }

    @Test("retention runs off the hot path every N batches and keeps the newest events within max_size")
    func retentionInTheSink() async throws {
        let path = temporaryDirectory() + "/spool.db"
        var schedule = SpoolSink.Schedule()
        schedule.retentionEveryBatches = 5
        let sink = try SpoolSink(name: "spool", settings: SpoolSettings(path: path, maxAgeSeconds: 3600, maxBytes: 400_000),
                                 logger: quietLogger, schedule: schedule)
        let store = sink.store
        let old = (0..<10).map { row(100_000 + $0, receivedAt: 1000) }  // received in 1970: past max_age
        try await store.insert(old)
        for batch in 0..<40 {
            try await store.insert((0..<50).map { row(batch * 50 + $0, receivedAt: Int64(Date().timeIntervalSince1970 * 1000), size: 1000) })
        }
        #expect(try store.statistics().usedBytes > 1_000_000)
        // Retention is due after five batches through the sink; it runs in its own task.
        let removedBefore = try store.statistics().events
        #expect(removedBefore == 2010)
        #expect(await sink.runRetention() > 0)
        let after = try store.statistics()
        #expect(after.usedBytes <= 400_000 && after.events > 100, "\(after)")
        #expect(try store.rows(SpoolFilter(sinceMilliseconds: 0)).allSatisfy { $0.receivedAtMilliseconds > 1000 })
        #expect(after.lastSeq == 2010)
        await sink.close()
    }

    @Test("a full disk refuses batches (nacked, Slack redelivers), is logged, and the sink resumes by itself when space returns; nothing acked is lost",
          .enabled(if: getuid() == 0, "mounts a small tmpfs: needs root"))
    func fullDisk() async throws {
        let mountPoint = temporaryDirectory() + "/small"
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        guard mount("tmpfs", mountPoint, "tmpfs", 0, "size=2m") == 0 else {
            Issue.record("mount tmpfs: \(String(cString: strerror(errno)))")
            return
        }
        defer { umount2(mountPoint, Int32(MNT_DETACH)) }

        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.config.timeScale = 30  // retries after 3 s (deadline) + 0 s, 2 s, 10 s
        let sim = try SimServer(options)
        defer { sim.stop() }
        let path = mountPoint + "/spool.db"
        var schedule = SpoolSink.Schedule()
        schedule.repeatLogSeconds = 0.5
        _ = spoolTestMetrics  // bootstrapped before the sink makes its gauges
        let (daemon, sink) = try spoolDaemon(sim: sim, path: path, schedule: schedule)
        let operations = try OperationsServer(address: "127.0.0.1:0", daemon: daemon, metrics: spoolTestMetrics, logger: quietLogger)
        let running = Task { try await daemon.run(extraServices: [operations.service]) }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 && operations.port != nil })
        let port = try #require(operations.port)
        #expect(try await httpGet(port, "/metrics").1.contains(#"sockeyed_sink_failing{sink="spool"} 0"#))
        let counters = daemon.runners[0].counters
        _ = sim.inject(kind: "message", count: 5)
        #expect(await eventually { counters.snapshot.acked == 5 })

        // Empty the WAL first: SQLite reuses a WAL's pages once they are checkpointed, so 40
        // events can fit in the space the first 5 left there, and then nothing needs a new
        // block. With the WAL at zero bytes, the next commit must grow a file.
        #expect(await eventually(seconds: 10) { truncateWAL(path) }, "the WAL could not be truncated")

        // Fill the file system to the last byte.
        let filler = mountPoint + "/filler"
        let descriptor = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        #expect(descriptor >= 0)
        var chunk = [UInt8](repeating: 0x55, count: 65_536)
        var filled = 0
        while chunk.count >= 512, filled < 4 << 20 {
            let written = write(descriptor, &chunk, chunk.count)
            if written > 0 { filled += written } else { chunk = Array(chunk.prefix(chunk.count / 2)) }
        }
        close(descriptor)
        #expect(statvfsFree(mountPoint) < 4096, "free \(statvfsFree(mountPoint))")

        _ = sim.inject(kind: "message", count: 40)
        #expect(await eventually(seconds: 10) { sink()?.currentFailure?.kind == .diskFull },
                "\(String(describing: sink()?.currentFailure)) \(counters.snapshot)")
        #expect(await eventually(seconds: 10) { counters.snapshot.nacked >= 1 })
        let ackedWhileFull = sim.report().total.acked
        #expect(ackedWhileFull < 45, "the disk filled up but every event was acked")
        #expect(counters.snapshot.lastError?.contains("disk full") == true, "\(counters.snapshot)")
        // Loud everywhere an operator looks: the sink's health, the status page, the metrics.
        let health = try #require(sink()?.health)
        #expect(health.problem?.contains("disk") == true && health.since != nil, "\(health)")
        #expect(health.figures.contains { $0.0 == "refused" && Int($0.1).map { $0 > 0 } == true }, "\(health.figures)")
        let page = try await httpGet(port, "/").1
        #expect(page.contains("REFUSING EVENTS") && page.contains("refusing events: they are nacked"), "\(page.suffix(1500))")
        let status = try JSONSerialization.jsonObject(with: Data(try await httpGet(port, "/status.json").1.utf8)) as? [String: Any]
        let sinks = status?["sinks"] as? [[String: Any]]
        #expect(sinks?.first?["ok"] as? Bool == false && (sinks?.first?["problem"] as? String)?.contains("disk") == true)
        #expect(try await httpGet(port, "/metrics").1.contains(#"sockeyed_sink_failing{sink="spool"} 1"#))

        // Space returns: Slack's redeliveries are stored and acked without any intervention.
        #expect(unlink(filler) == 0)
        #expect(await eventually(seconds: 20) { sim.report().total.acked >= 45 }, "\(sim.report().total)")
        #expect(sink()?.currentFailure == nil && sink()?.health.problem == nil)
        #expect(try await httpGet(port, "/metrics").1.contains(#"sockeyed_sink_failing{sink="spool"} 0"#))
        #expect(!(try await httpGet(port, "/").1.contains("REFUSING EVENTS")))
        await daemon.stop()
        try await running.value

        let report = sim.report()
        #expect(report.total.failedAfterRetries == 0 && report.total.redelivered > 0, "\(report.total)")
        let stored = try spooledEventIDs(path)
        #expect(stored.rows == 45 && stored.ids.count == 45, "\(stored.rows) rows")
    }
}

/// Checkpoints the spool at `path` into its database file and truncates its WAL to zero
/// bytes, from a connection of its own; false while a reader or writer keeps it busy.
func truncateWAL(_ path: String) -> Bool {
    guard let connection = try? DatabaseQueue(path: path) else { return false }
    defer { try? connection.close() }
    let busy = try? connection.writeWithoutTransaction { db in
        try Int.fetchOne(db, sql: "PRAGMA wal_checkpoint(TRUNCATE)")
    }
    let walBytes = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
    return busy == 0 && walBytes == 0
}

func statvfsFree(_ path: String) -> UInt64 {
    var info = statvfs()
    guard statvfs(path, &info) == 0 else { return .max }
    return UInt64(info.f_bavail) * UInt64(info.f_frsize)
}

@Suite("group commit in the spool sink")
struct SpoolGroupCommitTests {
    @Test("batches of concurrent callers share transactions; each caller returns after its batch committed")
    func concurrentBatchesShareCommits() async throws {
        let path = temporaryDirectory() + "/spool.db"
        let sink = try SpoolSink(name: "spool", settings: SpoolSettings(path: path), logger: quietLogger)
        // EventRecord comes only from the client; the store's rows stand in through the
        // same queue, via the sink's public path for rows.
        let outcomes = await withTaskGroup(of: Bool.self, returning: [Bool].self) { group in
            for caller in 0..<40 {
                group.addTask {
                    let rows = (0..<5).map { row(caller * 5 + $0) }
                    let ok = await sink.acceptRows(rows) == nil
                    // Committed when accept returned: a fresh reader sees the batch.
                    let seen = (try? spooledEventIDs(path).ids) ?? []
                    return ok && rows.allSatisfy { seen.contains($0.eventID!) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.count == 40 && outcomes.allSatisfy { $0 })
        #expect(try spooledEventIDs(path).rows == 200)
        #expect(sink.commits < 40, "\(sink.commits) transactions for 40 concurrent batches")
        await sink.close()
    }
}
