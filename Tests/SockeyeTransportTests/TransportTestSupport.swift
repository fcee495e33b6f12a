import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport

/// Starts an in-process simulator on a free loopback port.
func startSim(tls: Bool = false, _ configure: (inout SimServer.Options) -> Void = { _ in }) throws -> SimServer {
    var options = SimServer.Options()
    options.tls = tls
    if tls {
        options.certDirectory = NSTemporaryDirectory() + "sockeye-transport-tests-cert"
    }
    options.config.pingInterval = 1
    configure(&options)
    return try SimServer(options)
}

/// The simulator's default app token.
let simToken = SimConfig().apps[0].appTokens[0]

/// Options pointing a client at `sim`, with short timings so faults recover within seconds.
func clientOptions(for sim: SimServer, _ configure: (inout SocketModeOptions) -> Void = { _ in }) -> SocketModeOptions {
    var options = SocketModeOptions()
    options.apiBaseURL = sim.apiBaseURL
    options.ackMode = .manual
    options.environment = [:]  // no proxy from the test machine's environment
    options.pool.backoff = Backoff(base: .milliseconds(50), cap: .milliseconds(500), jitter: .full)
    options.pool.tooManyWebsocketsBackoff = Backoff(base: .milliseconds(300), cap: .seconds(1), jitter: .equal)
    options.pool.urlRequestBurst = 1000
    options.pool.urlRequestRefill = .milliseconds(10)
    options.pool.silenceTimeout = .seconds(3)
    options.pool.pongTimeout = .seconds(3)  // as tolerant as the silence watchdog: loaded CI machines delay pongs
    options.pool.pingInterval = .milliseconds(500)
    options.pool.connectTimeout = .seconds(3)
    options.pool.helloTimeout = .seconds(3)
    options.pool.closeTimeout = .milliseconds(500)
    configure(&options)
    return options
}

/// Connects `client` through its `run()`, in a task of its own that ends once the client
/// stopped: for tests that wait for connections before (or without) reading events.
func startRunning(_ client: SocketModeClient) {
    Task { try? await client.run() }
}

/// What the application saw: every delivery, keyed so that a second delivery of the same
/// event (by event id, or envelope id when there is none) is counted as a duplicate.
final class DeliveryLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [String: Int] = [:]
    private(set) var deliveries = 0
    private var lastAckAt: [Double] = []

    func record(_ event: SocketModeEvent) {
        let key = event.eventID.map { "\(event.teamID ?? "")/\($0)" } ?? "envelope/\(event.envelopeID)"
        lock.lock()
        seen[key, default: 0] += 1
        deliveries += 1
        lastAckAt.append(Date().timeIntervalSince1970)
        lock.unlock()
    }

    var distinct: Int { lock.lock(); defer { lock.unlock() }; return seen.count }
    var duplicates: Int { lock.lock(); defer { lock.unlock() }; return seen.values.reduce(0) { $0 + max(0, $1 - 1) } }
    /// The longest pause between two consecutive deliveries, in seconds.
    var longestGap: Double {
        lock.lock(); defer { lock.unlock() }
        return zip(lastAckAt, lastAckAt.dropFirst()).map { $1 - $0 }.max() ?? 0
    }
}

/// Consumes `client.events` in a task, acking each one, until stopped.
func consume(_ client: SocketModeClient, into log: DeliveryLog, answer: @escaping @Sendable (SocketModeEvent) async throws -> Void = { try await $0.ack() }) -> Task<Error?, Never> {
    Task {
        do {
            for try await event in client.events {
                log.record(event)
                try await answer(event)
            }
            return nil
        } catch {
            return error
        }
    }
}

/// Polls `condition` every 20 ms for up to `seconds`.
func waitUntil(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

/// Waits until the simulator has nothing in flight or queued (every event settled).
func waitSettled(_ sim: SimServer, seconds: Double = 20) async -> SimReport {
    var report = sim.report()
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        report = sim.report()
        if report.inFlight == 0 && report.queued == 0 { break }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return report
}
