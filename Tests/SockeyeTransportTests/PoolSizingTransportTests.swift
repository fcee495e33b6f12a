import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

extension FaultMatrix {
    /// The dynamic pool over real sockets: it grows under the simulator's load generator,
    /// shrinks when the load stops, and delivers every event once while it resizes.
    @Suite("dynamic pool sizing over the transport")
    struct PoolSizingTransport {
        /// Thresholds scaled down so that a few hundred envelopes per second are "load" and
        /// decisions come within a second: above 100 envelopes/s per connection for 0.3 s
        /// grows, below 50/s for 1 s shrinks, at most one resize per 0.4 s.
        static func dynamicOptions(for sim: SimServer, max: Int = 4) -> SocketModeOptions {
            faultClientOptions(for: sim, poolSize: 1) { options in
                options.maxPoolSize = max
                options.pool.growRatePerConnection = 100
                options.pool.growInFlightPerConnection = 10_000
                options.pool.growAfter = .milliseconds(300)
                options.pool.shrinkAfter = .seconds(1)
                options.pool.resizeCooldown = .milliseconds(400)
                options.pool.resizeEvaluationInterval = .milliseconds(100)
            }
        }

        /// Slack's ack deadline for the resizing runs. 600 envelopes/s keep a debug client
        /// busy, and on a crowded machine its reads fall seconds behind the simulator's sends:
        /// with the fault matrix's 1 s deadline, Slack would time out envelopes still waiting
        /// in the socket (before the client's ack guard can see them) and count commands as
        /// failed, making these tests about the machine's speed instead of the pool's size.
        static let resizeAckDeadline = 30.0

        @Test("a dynamic pool grows to its maximum under load and shrinks back after it, delivering every event once")
        func growsAndShrinks() async throws {
            let sim = try startFaultSim(ackDeadline: Self.resizeAckDeadline)
            let total = 2400
            try await withFaultHarness(sim: sim, options: Self.dynamicOptions(for: sim)) { h in
                #expect(await waitUntil(10) { h.isLive(1) })
                #expect(h.client.stats.targetConnections == 1)
                #expect(h.sim.startLoad(LoadSpec(rate: 600, total: total, kinds: LoadKinds.mixed)))
                // 600/s against 100/s per connection: grows one step at a time to 4.
                #expect(await waitUntil(30) { h.client.stats.targetConnections == 4 }, "target \(h.client.stats.targetConnections)")
                #expect(await waitUntil(30) { h.sim.liveConnections() == 4 && h.client.stats.liveConnections == 4 },
                        "live: sim \(h.sim.liveConnections()), client \(h.client.stats.liveConnections)")
                let grown = h.client.stats.pool.poolGrown
                #expect(grown == 3, "grew \(grown) times")
                #expect(await waitUntil(30) { h.log.distinct >= total })
                // Load over: below half the thresholds for 1 s per step, back to 1.
                #expect(await waitUntil(30) { h.client.stats.targetConnections == 1 }, "target \(h.client.stats.targetConnections)")
                #expect(await waitUntil(30) { h.sim.liveConnections() == 1 && h.client.stats.liveConnections == 1 },
                        "live: sim \(h.sim.liveConnections()), client \(h.client.stats.liveConnections)")
                #expect(h.client.stats.pool.poolShrunk == 3)
                let report = await waitSettled(h.sim, seconds: 10)
                let result = LoadResult(report: report, recovered: h.isLive(1), stats: h.client.stats)
                expectDeliveredOnce(result, h.log, total: total)
                // Shrinking closes connections gracefully: no loss was reported.
                #expect(result.stats.pool.connectionsLost == 0)
            }
        }

        @Test("a static pool keeps its size under the same load")
        func staticPoolStays() async throws {
            let sim = try startFaultSim()
            let total = 1200
            var options = Self.dynamicOptions(for: sim)
            options.maxPoolSize = nil
            try await withFaultHarness(sim: sim, options: options) { h in
                #expect(await waitUntil(10) { h.isLive(1) })
                #expect(h.sim.startLoad(LoadSpec(rate: 600, total: total, kinds: LoadKinds.events)))
                #expect(await waitUntil(30) { h.log.distinct >= total })
                #expect(h.client.stats.pool.poolGrown == 0)
                #expect(h.client.stats.targetConnections == 1)
                #expect(h.sim.report().connectionsOpened == 1)
            }
        }

        @Test("growth stops at Slack's connection limit: too_many_websockets holds the pool back and nothing is lost")
        func growthHeldBackByLimit() async throws {
            let sim = try startFaultSim(ackDeadline: Self.resizeAckDeadline) { $0.config.maxConnectionsPerApp = 2 }
            let total = 2400
            try await withFaultHarness(sim: sim, options: Self.dynamicOptions(for: sim)) { h in
                #expect(await waitUntil(10) { h.isLive(1) })
                #expect(h.sim.startLoad(LoadSpec(rate: 600, total: total, kinds: LoadKinds.mixed)))
                #expect(await waitUntil(30) { h.log.distinct >= total })
                let report = await waitSettled(h.sim, seconds: 10)
                #expect(h.client.stats.pool.tooManyWebsockets >= 1)
                // Held back, not hammering: equal-jitter backoff from 300 ms over ~4 s.
                #expect(report.tooManyRejections <= 15, "too_many_websockets answers: \(report.tooManyRejections)")
                #expect(h.sim.liveConnections() <= 2)
                let result = LoadResult(report: report, recovered: h.client.stats.liveConnections >= 1, stats: h.client.stats)
                expectDeliveredOnce(result, h.log, total: total)
            }
        }
    }
}
