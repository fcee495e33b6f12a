import Foundation
import Logging
import Metrics
import SockeyeSinkKit
import Synchronization

/// The durable sink: each batch is committed to the SQLite spool (in one transaction,
/// fsynced) before `accept` returns, so the daemon acks only events that are on disk. Batches
/// that arrive while a transaction commits share the next one (group commit).
///
/// A batch the spool cannot take — a full disk, a lock held by another process, an I/O
/// error — is refused whole (its events are nacked and Slack redelivers them). The failure
/// is logged at error level with what to do when it starts and every `repeatLogSeconds` while it
/// lasts; the first batch that commits again ends it (logged at notice level). Nothing is
/// retried here: Slack's redelivery is the retry, and the unique indexes keep a redelivered
/// event from being stored twice.
///
/// Retention (by age and by size) runs off the hot path: in a task of its own every
/// `retentionEveryBatches` batches or `retentionEverySeconds`, whichever comes first, never
/// two at once. It shares the writer connection, and deletes in bounded chunks so a batch
/// waits for at most one chunk.
public final class SpoolSink: EventSink {
    public let name: String
    public let store: SpoolStore
    public let settings: SpoolSettings
    let logger: Logger
    let schedule: Schedule
    private let checkpointer: SpoolCheckpointer
    private let state = Mutex(State())
    /// `sockeyed_spool_events{sink}` and `sockeyed_spool_bytes{sink}`: the spool's depth,
    /// counted at start and after each retention run, with the events stored in between.
    private let depthGauge: Gauge
    private let bytesGauge: Gauge
    /// `sockeyed_sink_failing{sink}`: 1 while the spool refuses batches, else 0.
    private let failingGauge: Gauge

    /// When retention runs and how often a lasting failure is logged again.
    public struct Schedule: Sendable {
        public var retentionEveryBatches = 1000
        public var retentionEverySeconds: Double = 30
        public var repeatLogSeconds: Double = 10
        /// How often the WAL is copied into the database file, off the writer.
        public var checkpointMilliseconds = 200
        public init() {}
    }

    /// A batch waiting for the writer.
    struct Waiting {
        var batch: SpoolBatch
        var continuation: CheckedContinuation<SpoolError?, Never>
    }

    struct State {
        var queue: [Waiting] = []
        var writing = false
        var commits = 0
        var failing: SpoolError?
        var failingSince = ContinuousClock.now
        var failingWallClock: Date?
        var lastFailureLog: ContinuousClock.Instant?
        var refusedEvents = 0
        var batchesSinceRetention = 0
        var lastRetention = ContinuousClock.now
        var retention: Task<Void, Never>?
        /// Events in the spool (exact after a count, then kept up to date by inserts).
        var depth = 0
    }

    /// Opens (creating if needed) the spool of `settings` for sink `name`.
    public init(name: String, settings: SpoolSettings, logger: Logger, options: SpoolStore.Options = .init(),
                schedule: Schedule = .init()) throws(SpoolError) {
        self.name = name
        self.settings = settings
        self.logger = logger
        self.schedule = schedule
        store = try SpoolStore(path: settings.path, options: options)
        do {
            checkpointer = try SpoolCheckpointer(path: settings.path, interval: .milliseconds(schedule.checkpointMilliseconds))
        } catch {
            store.close()
            throw SpoolError.classify(error, path: settings.path)
        }
        depthGauge = Gauge(label: "sockeyed_spool_events", dimensions: [("sink", name)])
        bytesGauge = Gauge(label: "sockeyed_spool_bytes", dimensions: [("sink", name)])
        failingGauge = Gauge(label: "sockeyed_sink_failing", dimensions: [("sink", name)])
        failingGauge.record(0)
        // `sockeyed_spool_max_bytes{sink}`: its `max_size`, for an alert on the spool filling.
        if let maxBytes = settings.maxBytes {
            Gauge(label: "sockeyed_spool_max_bytes", dimensions: [("sink", name)]).record(maxBytes)
        }
        recount()
    }

    /// Events in the spool now (as the depth gauge reports them).
    public var depth: Int { state.withLock { $0.depth } }

    /// Counts the spool's events and bytes for the depth gauges (off the write path: at start
    /// and after retention).
    private func recount() {
        guard let statistics = try? store.statistics() else { return }
        state.withLock { $0.depth = statistics.events }
        depthGauge.record(statistics.events)
        bytesGauge.record(statistics.usedBytes)
    }

    /// The failure batches are refused for now, if any.
    public var currentFailure: SpoolError? { state.withLock { $0.failing } }

    public var health: SinkHealth {
        let (failing, since, refused, depth) = state.withLock { ($0.failing, $0.failingWallClock, $0.refusedEvents, $0.depth) }
        var figures = [("events", String(depth)), ("file", store.path)]
        if failing != nil { figures.append(("refused", String(refused))) }
        return SinkHealth(kind: "spool", problem: failing.map { "\($0.kind.rawValue): \($0.detail); what to do: \($0.advice)" },
                          since: since, figures: figures)
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        guard let failure = await enqueue(.records(records)) else { return .accepted }
        return .refusedAll(records.count, "sink \(name): \(failure.description)")
    }

    /// `accept` for rows (tools, benchmarks): nil once `rows` are committed, else why not.
    public func acceptRows(_ rows: [SpoolRow]) async -> SpoolError? {
        await enqueue(.rows(rows))
    }

    /// Queues `batch` for the writer (starting it when idle); nil once committed.
    private func enqueue(_ batch: SpoolBatch) async -> SpoolError? {
        await withCheckedContinuation { continuation in
            let startWriter = state.withLock { state -> Bool in
                state.queue.append(Waiting(batch: batch, continuation: continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriter { Task { await self.writeQueued() } }
        }
    }

    /// Group commit: while one transaction commits (an fsync: milliseconds on some disks),
    /// batches of other callers (apps sharing the sink) queue up; the next transaction takes
    /// them all. Each batch is still all-or-nothing and each caller returns only after the
    /// transaction holding its batch committed (or failed: then every batch of it is refused).
    private func writeQueued() async {
        while true {
            let group = state.withLock { state -> [Waiting] in
                let group = state.queue
                state.queue.removeAll()
                if group.isEmpty { state.writing = false }
                return group
            }
            if group.isEmpty { return }
            let batches = group.map(\.batch)
            var failure: SpoolError?
            do {
                let inserted = try await store.insert(batches)
                let depth = state.withLock { state -> Int in
                    state.commits += 1
                    state.depth += inserted
                    return state.depth
                }
                depthGauge.record(depth)
                succeeded()
            } catch {
                failure = error
                failed(error, refusing: batches.reduce(0) { $0 + $1.count })
            }
            for waiting in group { waiting.continuation.resume(returning: failure) }
        }
    }

    /// Transactions committed so far (a group commit counts once).
    public var commits: Int { state.withLock { $0.commits } }

    public func close() async {
        let running = state.withLock { state in
            defer { state.retention = nil }
            return state.retention
        }
        await running?.value
        await checkpointer.stop()
        await store.checkpoint()
        store.close()
    }

    /// Runs retention now (tests, tools) and returns how many events it deleted.
    @discardableResult
    public func runRetention() async -> Int {
        var removed = 0
        do {
            if let maxAge = settings.maxAgeSeconds {
                let cutoff = Timestamp.nowMilliseconds() - BoundedTime.milliseconds(maxAge)
                // Bounded chunks: a batch waiting for the writer waits for one chunk at most.
                for _ in 0..<50 {
                    let chunk = try await store.removeReceived(before: cutoff)
                    removed += chunk
                    if chunk == 0 { break }
                }
            }
            if let maxBytes = settings.maxBytes {
                for _ in 0..<50 {
                    let chunk = try await store.removeOldest(toFit: maxBytes)
                    removed += chunk
                    if chunk == 0 { break }
                }
            }
        } catch {
            logger.warning("spool retention failed; it runs again later", metadata: [
                "sink": .string(name), "error": .string(error.description),
            ])
        }
        if removed > 0 {
            logger.info("spool retention deleted old events", metadata: ["sink": .string(name), "events": .stringConvertible(removed)])
        }
        recount()
        return removed
    }

    private func succeeded() {
        let now = ContinuousClock.now
        let recovered = state.withLock { state -> (SpoolError, Duration, Int)? in
            var recovered: (SpoolError, Duration, Int)?
            if let failing = state.failing {
                recovered = (failing, now - state.failingSince, state.refusedEvents)
                state.failing = nil
                state.failingWallClock = nil
                state.refusedEvents = 0
            }
            state.batchesSinceRetention += 1
            let due = state.batchesSinceRetention >= schedule.retentionEveryBatches
                || (now - state.lastRetention) / .seconds(1) >= schedule.retentionEverySeconds
            if due, state.retention == nil, settings.maxAgeSeconds != nil || settings.maxBytes != nil {
                state.batchesSinceRetention = 0
                state.lastRetention = now
                // Set under the lock before the task can clear it.
                state.retention = Task { [self] in
                    await self.runRetention()
                    self.state.withLock { $0.retention = nil }
                }
            }
            return recovered
        }
        if let (failure, duration, refused) = recovered {
            failingGauge.record(0)
            logger.notice("spool writes again: events are stored and acked", metadata: [
                "sink": .string(name), "path": .string(store.path), "after": .string(failure.kind.rawValue),
                "seconds": .string(String(format: "%.1f", duration / .seconds(1))), "refused_events": .stringConvertible(refused),
            ])
        }
    }

    private func failed(_ error: SpoolError, refusing count: Int) {
        let now = ContinuousClock.now
        let log = state.withLock { state -> Bool in
            state.refusedEvents += count
            let changed = state.failing?.kind != error.kind
            if state.failing == nil {
                state.failingSince = now
                state.failingWallClock = Date()
            }
            state.failing = error
            let repeatDue = state.lastFailureLog.map { (now - $0) / .seconds(1) >= schedule.repeatLogSeconds } ?? true
            guard changed || repeatDue else { return false }
            state.lastFailureLog = now
            return true
        }
        failingGauge.record(1)
        guard log else { return }
        logger.error("spool cannot store events: refusing them (nacked, Slack redelivers)", metadata: [
            "sink": .string(name), "path": .string(store.path), "problem": .string(error.kind.rawValue),
            "error": .string(error.detail), "what_to_do": .string(error.advice),
            "free_bytes": .string(FileSystemSpace.available(near: store.path).map(String.init) ?? "unknown"),
        ])
    }
}
