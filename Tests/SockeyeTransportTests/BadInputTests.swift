import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

@Suite("Bad input from the server")
struct BadInputTests {
    @Test("a message over the maximum size closes that connection with 1009, and the client reconnects and goes on")
    func oversizeMessage() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) {
            $0.poolSize = 1
            $0.maxMessageSize = 2048
        })
        let notices = NoticeLog(client.notices)
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        #expect(await waitUntil(10) { sim.liveConnections() == 1 })
        // One ~8 KB message event: over the 2 KiB limit.
        sim.startLoad(LoadSpec(rate: nil, window: 1, total: 1, kinds: nil, sizes: [8192], app: 0))
        // Generous waits: on a loaded CI machine running every suite at once, the one
        // envelope once took over 10 s to arrive (alone, this test takes 0.15 s).
        #expect(await waitUntil(30) { notices.contains("over the 2048-byte limit") }, "notices: \(notices.all)")
        #expect(await waitUntil(30) { client.stats.pool.connectionsLost >= 1 && sim.liveConnections() == 1 })
        // The replacement connection delivers ordinary events.
        sim.inject(kind: "reaction_added", count: 5)
        #expect(await waitUntil(10) { log.distinct == 5 })
        #expect(client.stats.protocolErrors >= 1)
        await client.stop()
        _ = await consumer.value
    }
}
