import Foundation
import Logging
import ServiceLifecycle
import Sockeye
import SockeyeCore
import SockeyeSim
import Testing

/// When a `SocketModeClient` connects (not in `init`: on `run()` or the first iteration) and
/// how `run()` ends, against the simulator.
@Suite("Swift API: the client connects on run() or iteration, once, and run() stops with a drain", .serialized)
struct ClientLifecycleTests {
    static let quiet = Logger(label: "sockeye-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Waits (at most 30 s) for `task`, and says whether it ended.
    func ended<T: Sendable>(_ task: Task<T, any Error>) async -> Bool {
        await within(30) { _ = try? await task.value; return true } == true
    }

    @Test("making a client does no I/O: no apps.connections.open and no connection until run(); cancelling run() stops it")
    func initDoesNoIO() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim), logger: Self.quiet)
        // A started client calls apps.connections.open within milliseconds; a second is
        // ample even on a loaded machine, and nothing may happen in it.
        try await Task.sleep(for: .seconds(1))
        #expect(client.stats.pool.urlRequests == 0)
        #expect(client.stats.state == .idle)
        #expect(sim.report().connectionsOpened == 0)

        let running = Task { try await client.run() }
        #expect(await waitUntil(30) { sim.liveConnections() == 2 })
        #expect(client.stats.pool.urlRequests >= 2)
        running.cancel()
        #expect(await ended(running), "run() did not return after its task was cancelled")
        let result = await running.result
        #expect((try? result.get()) != nil, "run() threw after a cancellation: \(result)")
        #expect(await waitUntil(30) { client.stats.state == .stopped }, "state: \(client.stats.state)")
        #expect(await waitUntil(30) { sim.liveConnections() == 0 })
    }

    @Test("run() as a Service: a graceful shutdown of its group drains, acks what was answered, closes and ends the events")
    func serviceGroupShutdown() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim), logger: Self.quiet)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [client], logger: Self.quiet))
        let running = Task { try await group.run() }
        // run() connected: nothing iterates the events yet.
        #expect(await waitUntil(30) { sim.liveConnections() == 2 })
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        sim.inject(kind: "message", count: 10)
        #expect(await waitUntil(30) { log.distinct == 10 })
        let report = await waitSettled(sim)
        #expect(report.total.acked == 10)

        await group.triggerGracefulShutdown()
        #expect(await ended(running), "the group did not finish after a graceful shutdown")
        let result = await running.result
        #expect((try? result.get()) != nil, "the group failed: \(result)")
        #expect(await waitUntil(30) { client.stats.state == .stopped }, "state: \(client.stats.state)")
        let consumed = await within(30) { await consumer.value }
        #expect(consumed != nil, "the events did not end")
        if case .some(.some(let error)) = consumed { Issue.record("the events ended with \(error)") }
        #expect(await waitUntil(30) { sim.liveConnections() == 0 })
    }

    @Test("iterating the events without run() connects, and stop() ends them")
    func iterationConnects() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        try await Task.sleep(for: .milliseconds(500))
        #expect(sim.report().connectionsOpened == 0)
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        #expect(await waitUntil(30) { sim.liveConnections() == 2 })
        sim.inject(kind: "app_mention", count: 5)
        #expect(await waitUntil(30) { log.distinct == 5 })
        let stopped = await within(30) { await client.stop(); return true }
        #expect(stopped == true, "stop() did not return")
        let consumed = await within(30) { await consumer.value }
        #expect(consumed != nil, "the events did not end")
        #expect(await waitUntil(30) { sim.liveConnections() == 0 })
    }

    @Test("run(), the events and the states together connect once: one pool, not one per caller")
    func connectsOnce() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        let running = Task { try await client.run() }
        let states = StateLog(client)
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        #expect(await waitUntil(30) { sim.liveConnections() == 2 && client.stats.liveConnections == 2 })
        // Time for a second pool, had one been started, to open its connections too.
        try await Task.sleep(for: .seconds(1))
        #expect(sim.liveConnections() == 2)
        let stats = client.stats
        #expect(stats.pool.urlRequests <= 2 + stats.pool.connectionsLost, "\(stats.pool)")
        #expect(states.states.contains { if case .running = $0 { true } else { false } }, "states: \(states.states)")
        await client.stop()
        #expect(await ended(running), "run() did not return after stop()")
        #expect(await within(30) { await consumer.value } != nil, "the events did not end")
        states.stop()
    }

    @Test("stop() before anything connected ends the client at once and without I/O; run() and the events then end at once")
    func stopBeforeConnecting() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        let stopped = await within(30) { await client.stop(); return true }
        #expect(stopped == true, "stop() of a client that never connected did not return")
        let running = Task { try await client.run() }
        #expect(await ended(running), "run() after stop() did not return")
        let first = await within(30) {
            var events = client.events.makeAsyncIterator()
            return (try? await events.next()) == nil
        }
        #expect(first == true, "the events did not end at once")
        #expect(client.stats.pool.urlRequests == 0)
        #expect(sim.report().connectionsOpened == 0)
    }

    @Test("the client logs its notices to its Logger: a hello at info, a refused connection at warning, never the token")
    func logsNotices() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let lines = LogLines()
        var logger = Logger(label: "sockeye-tests", factory: { _ in LineHandler(lines: lines) })
        logger.logLevel = .debug
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim), logger: logger)
        let running = Task { try await client.run() }
        #expect(await waitUntil(30) { lines.contains(.info, "connection live") }, "\(lines.all)")
        await client.stop()
        #expect(await ended(running))

        // Nothing listens on the port: every apps.connections.open fails at TCP.
        let closed = try freePort()
        let refused = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) {
            $0.apiBaseURL = "http://127.0.0.1:\(closed)/api/"
        }, logger: logger)
        let refusedRun = Task { try await refused.run() }
        #expect(await waitUntil(30) { lines.contains(.warning, "apps.connections.open failed") }, "\(lines.all)")
        await refused.stop()
        #expect(await ended(refusedRun))
        let secret = String(simToken.split(separator: "-").last ?? "")
        #expect(!secret.isEmpty && !lines.all.contains { $0.contains(secret) }, "a line shows the token")
    }

    @Test("run() throws the terminal failure when the token is refused for good")
    func runThrowsTerminated() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: "xapp-1-A0NOTKNOWN-1-nope", options: clientOptions(for: sim))
        let running = Task { try await client.run() }
        #expect(await ended(running), "run() did not return after a fatal error")
        let result = await running.result
        guard case .failure(let error) = result else {
            Issue.record("run() returned without an error")
            return
        }
        #expect(error as? SocketModeError == .terminated(.fatalOpenError("invalid_auth")), "\(error)")
    }
}

/// Log lines a test's `Logger` wrote, as "level message metadata".
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [(Logger.Level, String)] = []

    func add(_ level: Logger.Level, _ text: String) { lock.withLock { lines.append((level, text)) } }
    var all: [String] { lock.withLock { lines.map { "\($0.0) \($0.1)" } } }
    func contains(_ level: Logger.Level, _ text: String) -> Bool {
        lock.withLock { lines.contains { $0.0 == level && $0.1.contains(text) } }
    }
}

/// A `LogHandler` that keeps every line in `lines`.
struct LineHandler: LogHandler {
    let lines: LogLines
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.add(event.level, "\(event.message) \(fields)")
    }
}
