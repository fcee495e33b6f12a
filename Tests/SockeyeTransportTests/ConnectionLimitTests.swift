import Foundation
import Logging
import Sockeye
import SockeyeSim
import Testing

/// `SocketModeClient.limitConnections(to:)` against the simulator: the cap a cluster's leases
/// put on one process's share of an app's connections.
@Suite("Swift API: a limit on the client's connections", .serialized)
struct ConnectionLimitTests {
    static let quiet = Logger(label: "sockeye-tests", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("a limit given before connecting holds from the start; raising it opens more, lowering it closes at once, lifting it restores the pool")
    func limitFollowsTheHost() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        var options = clientOptions(for: sim)
        options.poolSize = 3
        let client = try SocketModeClient(appToken: simToken, options: options, logger: Self.quiet)
        client.limitConnections(to: 1)
        let running = Task { try await client.run() }
        #expect(await waitUntil(30) { sim.liveConnections() == 1 })
        // Held at one (a second would come within milliseconds if it were allowed).
        try await Task.sleep(for: .seconds(1))
        #expect(sim.liveConnections() == 1)
        client.limitConnections(to: 2)
        #expect(await waitUntil(30) { sim.liveConnections() == 2 })
        client.limitConnections(to: 0)
        #expect(await waitUntil(30) { sim.liveConnections() == 0 })
        let before = client.stats.pool.urlRequests
        client.limitConnections(to: nil)
        #expect(await waitUntil(30) { sim.liveConnections() == 3 }, "state \(client.stats.state), URL requests \(before) -> \(client.stats.pool.urlRequests), \(client.stats.pool)")
        running.cancel()
        _ = await running.result
        #expect(await waitUntil(30) { sim.liveConnections() == 0 })
    }
}
