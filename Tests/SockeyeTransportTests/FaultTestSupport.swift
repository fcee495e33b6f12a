import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

/// Every fault-matrix suite nests in this one. `.serialized` is inherited by nested suites, so
/// these tests run one at a time: they measure delivery gaps and count reconnects, which a
/// neighbouring test's load would blur on a small machine.
@Suite("Socket Mode client under faults", .serialized)
struct FaultMatrix {}

/// Payload kinds the loads cycle through.
enum LoadKinds {
    /// Events, a slash command and interactivity (including the 63 KB view submission).
    static let mixed = ["message", "app_mention", "reaction_added", "slash_command", "block_actions", "shortcut", "view_submission"]
    /// Events API kinds only. Slack retries events, so an event routed to a ghost still
    /// arrives; a command or an interaction routed to a ghost is lost by Slack itself
    /// (docs/protocol.md, The connection limit), which no client can prevent.
    static let events = ["message", "app_mention", "reaction_added"]
}

/// Monotonic seconds (the simulator's clock, so times compare with its own).
func monotonicNow() -> Double { SimServer.monotonic() }

// MARK: The application's view

/// What the application saw: each delivery with its time, keyed so that a second delivery
/// of the same event (team + event id, or envelope id when there is none) is a duplicate,
/// and which of them it acked successfully.
final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var times: [Double] = []
    private var acked: Set<String> = []

    /// Records a delivery; returns its key.
    @discardableResult
    func record(_ event: SocketModeEvent) -> String {
        let key = event.eventID.map { "\(event.teamID ?? "")/\($0)" } ?? "envelope/\(event.envelopeID)"
        let now = monotonicNow()
        lock.withLock {
            counts[key, default: 0] += 1
            times.append(now)
        }
        return key
    }

    /// The application's ack of `key` was accepted by the client.
    func noteAcked(_ key: String) { lock.withLock { _ = acked.insert(key) } }

    var distinct: Int { lock.withLock { counts.count } }
    var deliveries: Int { lock.withLock { times.count } }
    var duplicates: Int { lock.withLock { counts.values.reduce(0) { $0 + max(0, $1 - 1) } } }
    var keys: Set<String> { lock.withLock { Set(counts.keys) } }
    var ackedKeys: Set<String> { lock.withLock { acked } }

    /// The longest stretch of `[from, to]` without a delivery (the edges count: a window
    /// with no delivery at all is one gap of its whole length).
    func longestGap(from: Double, to: Double) -> Double {
        let inside = lock.withLock { times.filter { $0 >= from && $0 <= to } }.sorted()
        var previous = from
        var longest = 0.0
        for t in inside + [to] {
            longest = max(longest, t - previous)
            previous = t
        }
        return longest
    }
}

/// Consumes `client.events` until the stream ends, recording each event and acking it —
/// at once, or, with `ackDelayMillis`, from a separate task after a random delay in that
/// range (so that some deliveries are still unanswered at any moment). Returns the error
/// the stream ended with (nil when it finished normally).
func consumeEvents(_ client: SocketModeClient, into log: EventLog, ackDelayMillis: ClosedRange<Int>? = nil) -> Task<Error?, Never> {
    Task {
        do {
            for try await event in client.events {
                let key = log.record(event)
                if let delay = ackDelayMillis {
                    Task {
                        try? await Task.sleep(for: .milliseconds(Int.random(in: delay)))
                        if (try? await event.ack()) != nil { log.noteAcked(key) }
                    }
                } else if (try? await event.ack()) != nil {
                    log.noteAcked(key)
                }
            }
            return nil
        } catch {
            return error
        }
    }
}

/// Runs `body`, giving up after `seconds`; nil when it did not finish in time. `body` runs
/// in its own task, so waits that ignore cancellation (a task's `value`) cannot hold the
/// caller past the bound; a body still running then is cancelled and left behind.
func within<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async -> T) async -> T? {
    let gate = ResumeOnce<T?>()
    return await withCheckedContinuation { continuation in
        gate.arm(continuation)
        let work = Task { gate.resume(await body()) }
        Task {
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            gate.resume(nil)
            work.cancel()
        }
    }
}

/// Resumes a continuation once, whoever comes first.
final class ResumeOnce<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, Never>?
    private var early: T?
    private var done = false

    func arm(_ continuation: CheckedContinuation<T, Never>) {
        let ready: T? = lock.withLock {
            if done, let early { return early }
            self.continuation = continuation
            return nil
        }
        if let ready { continuation.resume(returning: ready) }
    }

    func resume(_ value: T) {
        let waiting: CheckedContinuation<T, Never>? = lock.withLock {
            guard !done else { return nil }
            done = true
            if continuation == nil { early = value }
            return continuation
        }
        waiting?.resume(returning: value)
    }
}

// MARK: Simulator and client set-up

/// A simulator with Slack's timings sped up: an ack deadline of `ackDeadline` real seconds,
/// and protocol time (retry delays, refresh close delay, ghost TTL, lifetimes) divided by
/// `timeScale` — with 100, Slack's retries come after 0, 0.6 and 3 s instead of 0, 60 and
/// 300 s, so an event that needs all of them still settles within seconds.
func startFaultSim(ackDeadline: Double = 1, timeScale: Double = 100,
                   _ configure: (inout SimServer.Options) -> Void = { _ in }) throws -> SimServer {
    try startSim { options in
        options.config.ackDeadline = ackDeadline
        options.config.timeScale = timeScale
        configure(&options)
    }
}

/// `clientOptions(for:)` with the client's idea of Slack's ack deadline matched to the
/// simulator's, and the ack guard just inside it.
func faultClientOptions(for sim: SimServer, poolSize: Int = 2,
                        _ configure: (inout SocketModeOptions) -> Void = { _ in }) -> SocketModeOptions {
    clientOptions(for: sim) { options in
        let deadline = Int(sim.options.config.ackDeadline * 1000)
        options.poolSize = poolSize
        options.pool.ackDeadline = .milliseconds(deadline)
        options.ackGuard = .milliseconds(deadline * 7 / 10)
        configure(&options)
    }
}

/// One simulator, one client and the application consuming its events.
final class FaultHarness: @unchecked Sendable {
    let sim: SimServer
    let client: SocketModeClient
    let log = EventLog()
    let consumer: Task<Error?, Never>
    let poolSize: Int

    init(sim: SimServer, options: SocketModeOptions, token: String = simToken, ackDelayMillis: ClosedRange<Int>? = nil) throws {
        self.sim = sim
        poolSize = options.poolSize
        client = try SocketModeClient(appToken: token, options: options)
        consumer = consumeEvents(client, into: log, ackDelayMillis: ackDelayMillis)
    }

    /// Stops the client (bounded), ends the consumer (bounded) and the simulator. Returns
    /// how the event stream ended; records an issue if stopping hung.
    @discardableResult
    func finish() async -> Error? {
        let client = self.client
        let stopped = await within(10) { await client.stop(); return true }
        #expect(stopped == true, "client.stop() did not return within 10 s")
        let consumer = self.consumer
        let ended = await within(5) { await consumer.value }
        if ended == nil { consumer.cancel() }
        sim.stop()
        return ended ?? nil
    }

    /// Pool size reached on both sides: the client has `n` live connections and the
    /// simulator at least `n` (a half-open socket the client gave up on may linger there,
    /// as it does at Slack).
    func isLive(_ n: Int? = nil) -> Bool {
        let n = n ?? poolSize
        return client.stats.liveConnections == n && sim.liveConnections() >= n
    }
}

/// Builds a harness, runs `body`, and always finishes the harness (even when `body` throws),
/// so no client keeps reconnecting into the next test.
func withFaultHarness<T>(sim: SimServer, options: SocketModeOptions, token: String = simToken,
                         ackDelayMillis: ClosedRange<Int>? = nil,
                         _ body: (FaultHarness) async throws -> T) async throws -> T {
    let harness: FaultHarness
    do {
        harness = try FaultHarness(sim: sim, options: options, token: token, ackDelayMillis: ackDelayMillis)
    } catch {
        sim.stop()
        throw error
    }
    do {
        let result = try await body(harness)
        await harness.finish()
        return result
    } catch {
        await harness.finish()
        throw error
    }
}

// MARK: Simulator controls

extension SimServer {
    /// Ids of the app's live connections (hello sent or not), oldest first.
    func liveConnectionIDs(app: Int = 0) -> [Int] {
        sync { core, _ in core.connections(app: app).filter { core.state($0) == .live }.map { Int($0.raw) } }
    }

    /// Whether connection `id` is still registered for the app (in any state).
    func isRegistered(_ id: Int, app: Int = 0) -> Bool {
        sync { core, _ in core.connections(app: app).contains(ServerConnectionID(UInt64(id))) }
    }

    /// Sends `disconnect{reason}` to one connection, or to every connection of the app.
    func sendDisconnect(_ reason: String, connection: Int? = nil) {
        sync { core, now in core.disconnect(reason: reason, connection: connection.map { ServerConnectionID(UInt64($0)) }, now: now) }
    }

    /// Applies a fault; records an issue when the simulator refuses it.
    func applyFault(_ kind: String, connection: Int? = nil, seconds: Double? = nil, count: Int? = nil) {
        let ok = inject(Fault(kind: kind, connection: connection, seconds: seconds, count: count))
        #expect(ok, "the simulator refused fault \(kind)")
    }

    /// Makes `apps.connections.open` fail (nil: normal again).
    func setOpenError(_ mode: OpenErrorMode?) { sync { core, _ in core.openErrorMode = mode } }

    /// Failures of `apps.connections.open` still to come (nil: none).
    var openErrorRemaining: Int? { sync { core, _ in core.openErrorMode?.remaining } }
}

/// Polls the simulator's remaining open-error count every 5 ms and timestamps each call of
/// `apps.connections.open` it answered with the error (each call decrements the count).
final class OpenCallWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var stamps: [Double] = []
    private var task: Task<Void, Never>?

    init(_ sim: SimServer, seconds: Double) {
        task = Task { [self] in
            var last = sim.openErrorRemaining
            let end = monotonicNow() + seconds
            while monotonicNow() < end, !Task.isCancelled {
                let now = sim.openErrorRemaining
                if now != last {
                    let calls = (last ?? 0) - (now ?? 0)
                    let stamp = monotonicNow()
                    lock.withLock { stamps += Array(repeating: stamp, count: max(1, calls)) }
                    last = now
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
    }

    func stop() { task?.cancel() }
    /// When each failed call was seen.
    var calls: [Double] { lock.withLock { stamps } }
    /// The shortest interval between two consecutive failed calls (infinity with fewer than two).
    var shortestInterval: Double { zip(calls, calls.dropFirst()).map { $1 - $0 }.min() ?? .infinity }
}

// MARK: Runs and verdicts

/// A load run with a fault in the middle.
struct LoadPlan {
    /// Envelopes per second (open loop).
    var rate: Double = 400
    var total = 800
    var kinds = LoadKinds.mixed
    /// The fault hits once the application has seen this many events.
    var faultAfter = 200
    /// How long to wait for every event.
    var deliverWithin: Double = 30
}

/// What a run produced.
struct LoadResult {
    var report: SimReport
    /// The client was back at its pool size (both sides) after the run.
    var recovered: Bool
    var stats: SocketModeStats
    /// Envelopes Slack had delivered and not yet seen acked, sampled just before the fault
    /// (the sample and the fault are two calls: on a busy machine more may be in flight by
    /// the time the fault lands, see `unackedOnEndedConnections`).
    var inFlightAtFault = 0

    /// Envelopes Slack delivered on connections that ended during the run and never saw
    /// acked there: what was in flight on them when they were cut, counted by the simulator
    /// itself at the cut rather than sampled by the test around it.
    var unackedOnEndedConnections: Int {
        report.connections.filter { $0.state != "live" }
            .reduce(0) { $0 + max(0, $1.counters.delivered - $1.counters.acked) }
    }
}

/// Waits for the pool, starts the load, runs `fault` once `plan.faultAfter` events arrived,
/// then waits for every event, for the pool to recover, and for the simulator to settle.
func runLoad(_ h: FaultHarness, _ plan: LoadPlan, fault: (FaultHarness) async -> Void) async -> LoadResult {
    #expect(await waitUntil(10) { h.isLive() }, "pool not live before the load")
    #expect(h.sim.startLoad(LoadSpec(rate: plan.rate, total: plan.total, kinds: plan.kinds)))
    #expect(await waitUntil(10) { h.log.distinct >= plan.faultAfter }, "load did not start")
    let inFlight = h.sim.report().inFlight
    await fault(h)
    // Commands Slack gave up on never arrive: a settled load run ends the wait too.
    _ = await waitUntil(plan.deliverWithin) { h.log.distinct >= plan.total || h.sim.loadDone() }
    // The pool first, then the counters: a fault that lands after every envelope was acked
    // (the test's task can be that late on a busy machine) leaves nothing to settle, and a
    // report taken at once would predate the reconnections the fault caused.
    let recovered = await waitUntil(30) { h.isLive() }
    let report = await waitSettled(h.sim, seconds: 15)
    return LoadResult(report: report, recovered: recovered, stats: h.client.stats, inFlightAtFault: inFlight)
}

/// Commands and interactive payloads lost at Slack when TCP is cut under load: an ack in
/// flight when the peer shuts the connection, or written into it before the client has read
/// the FIN queued behind the envelopes it is still processing, or an envelope discarded
/// with an RST, is never seen by Slack, and Slack does not retry commands (docs/protocol.md, Retries and de-duplication).
/// No client can prevent it; events are retried and must all arrive. A cut may cost the
/// commands Slack had in flight at that moment (a few at 400 envelopes/s, dozens when a
/// loaded machine makes the client lag) plus this many for the race after it.
let tcpCutAllowance = 3

/// The fault matrix's verdict: every event reached the application exactly once, Slack
/// gave up on none and saw no stray ack, and the pool recovered. Commands may be lost at
/// Slack only when the fault `cutsTCP`, and then no more than were in flight at the cut plus
/// `tcpCutAllowance`; only those may be missing at the application.
func expectDeliveredOnce(_ result: LoadResult, _ log: EventLog, total: Int, cutsTCP: Bool = false,
                         sourceLocation: SourceLocation = #_sourceLocation) {
    let r = result.report
    let allowance = cutsTCP ? max(result.inFlightAtFault, result.unackedOnEndedConnections) + tcpCutAllowance : 0
    let context: Comment = """
        app distinct \(log.distinct)/\(total), duplicates \(log.duplicates); client live \(result.stats.liveConnections), \
        state \(result.stats.state), lost \(result.stats.pool.connectionsLost), urlRequests \(result.stats.pool.urlRequests), \
        dedup \(result.stats.pool.duplicatesDropped), guard \(result.stats.pool.ackGuardFired), late \(result.stats.lateAcks), \
        late at Slack \(r.total.lateAcks), \
        in flight at the fault \(result.inFlightAtFault) (sampled), \(result.unackedOnEndedConnections) (unacked on ended connections)
        \(r.table())
        """
    #expect(log.distinct <= total && log.distinct >= total - r.total.userVisibleFailures, context, sourceLocation: sourceLocation)
    #expect(log.duplicates == 0, context, sourceLocation: sourceLocation)
    #expect(r.total.failedAfterRetries == 0, context, sourceLocation: sourceLocation)
    #expect(r.total.userVisibleFailures <= allowance, context, sourceLocation: sourceLocation)
    #expect(r.total.unknownAcks == 0 && r.total.duplicateAcks == 0, context, sourceLocation: sourceLocation)
    #expect(r.inFlight == 0 && r.queued == 0, context, sourceLocation: sourceLocation)
    #expect(result.recovered, context, sourceLocation: sourceLocation)
}
