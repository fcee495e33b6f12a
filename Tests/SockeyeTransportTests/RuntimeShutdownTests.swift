import Foundation
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

@Suite("runtime shutdown")
struct RuntimeShutdownTests {
    /// A client stopped without a drain and dropped by its host right before the runtime
    /// shuts down used to leave its pool timer in lws' timer list while the client was freed;
    /// destroying the context then walked freed memory. Each round is a fresh runtime.
    @Test("shutting a runtime down right after stopNow and dropping its clients is clean, many times over")
    func shutdownRightAfterStopNow() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        for _ in 0..<15 {
            let runtime = try TransportRuntime()
            var configuration = ClientConfiguration(appToken: simToken)
            configuration.apiBaseURL = sim.apiBaseURL
            configuration.pool.poolSize = 2
            let delivered = Counter()
            var client: AppClient? = try AppClient(
                runtime: runtime, configuration: configuration,
                callbacks: ClientCallbacks(envelope: { _ in delivered.add() }), environment: [:])
            client?.start()
            let deadline = Date().addingTimeInterval(10)
            while (client?.stats.liveConnections ?? 0) < 2, Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
            #expect(client?.stats.liveConnections == 2)
            client?.stop(drain: false)
            client = nil
            runtime.shutdown()
        }
    }
}

/// A thread-safe count.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}
