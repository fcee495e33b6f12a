import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

extension FaultMatrix {
    /// Refreshes are make-before-break: while Slack recycles a connection, deliveries keep
    /// flowing. The simulator's hello is slowed to 1 s for these tests, so any refresh that
    /// breaks before it makes shows as a gap of a second or more, far above the bound.
    @Suite("refresh without a gap")
    struct Refresh {
        /// Above the jitter of a loaded 2-core machine at 400 envelopes/s (a few tens of ms),
        /// below the 1 s that a reconnect costs with the slowed hello.
        static let gapBound = 0.5

        @Test("refresh_requested on each of two connections in turn: the replacement is live before the old one closes, and deliveries have no gap")
        func refreshRequestedNoGap() async throws {
            // timeScale 1, and Slack closes a refreshed connection only 3 s after
            // refresh_requested: a client that waits for its replacement's hello (1 s away)
            // closes the old one itself, after that hello.
            let sim = try startFaultSim(ackDeadline: 3, timeScale: 1) { $0.config.refreshCloseDelay = 3 }
            let plan = LoadPlan(rate: 400, total: 2400)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                var window = (0.0, 0.0)
                // Per refresh, seconds after refresh_requested: replacement live, old one gone.
                var order: [(replaced: Double, oldGone: Double)] = []
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("slow_hello", seconds: 1)
                    let start = monotonicNow()
                    for connection in h.sim.liveConnectionIDs() {
                        let sent = monotonicNow()
                        h.sim.sendDisconnect("refresh_requested", connection: connection)
                        var replaced = Double.infinity
                        var oldGone = Double.infinity
                        let deadline = monotonicNow() + 5
                        while monotonicNow() < deadline, replaced == .infinity || oldGone == .infinity {
                            let now = monotonicNow()
                            // Two live at Slack without the old one: its replacement said hello.
                            if replaced == .infinity, h.sim.liveConnections() == 2 { replaced = now }
                            if oldGone == .infinity, !h.sim.isRegistered(connection) { oldGone = now }
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                        order.append((replaced - sent, oldGone - sent))
                        #expect(await waitUntil(5) { h.client.stats.liveConnections == 2 })
                    }
                    window = (start, monotonicNow())
                }
                for (replaced, oldGone) in order {
                    #expect(replaced.isFinite && oldGone.isFinite, "refresh did not complete: \(order)")
                    #expect(replaced <= oldGone, "the old connection closed before its replacement was live: \(order)")
                    // The client closed it (after the 1 s hello), not Slack at 3 s.
                    #expect(oldGone < 2.5, "the old connection waited for Slack to close it: \(order)")
                }
                let gap = h.log.longestGap(from: window.0, to: window.1)
                #expect(window.1 - window.0 >= 2, "two refreshes with a 1 s hello took \(window.1 - window.0) s")
                #expect(gap < Self.gapBound, "longest gap between deliveries during the refreshes: \(gap) s")
                expectDeliveredOnce(result, h.log, total: plan.total)
                #expect(result.report.connectionsOpened == 4)
                #expect(result.stats.pool.refreshes == 2)
            }
        }

        @Test("warning then refresh_requested on a pool of one leaves no gap: the replacement is live before the old one goes")
        func warningSingleConnectionNoGap() async throws {
            let sim = try startFaultSim(ackDeadline: 3, timeScale: 1)
            let plan = LoadPlan(rate: 400, total: 2000)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim, poolSize: 1)) { h in
                var window = (0.0, 0.0)
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("slow_hello", seconds: 1)
                    let old = h.sim.liveConnectionIDs().first
                    window.0 = monotonicNow()
                    h.sim.sendDisconnect("warning", connection: old)
                    // The replacement comes up beside the old connection.
                    #expect(await waitUntil(5) { h.sim.liveConnections() == 2 })
                    #expect(h.sim.liveConnectionIDs().contains(old ?? -1), "the old connection was closed before refresh_requested")
                    h.sim.sendDisconnect("refresh_requested", connection: old)
                    #expect(await waitUntil(5) { !h.sim.liveConnectionIDs().contains(old ?? -1) })
                    try? await Task.sleep(for: .milliseconds(300))
                    window.1 = monotonicNow()
                }
                let gap = h.log.longestGap(from: window.0, to: window.1)
                #expect(gap < Self.gapBound, "longest gap between deliveries during the refresh: \(gap) s")
                expectDeliveredOnce(result, h.log, total: plan.total)
                #expect(result.report.connectionsOpened == 2)
            }
        }

        @Test("the gap bound catches a reconnect: a dropped pool of one with a slow hello shows a gap above it")
        func gapBoundCatchesReconnect() async throws {
            // The control for the two tests above: the same measurement over a real
            // reconnect must exceed the bound, or the bound proves nothing.
            let sim = try startFaultSim(ackDeadline: 3, timeScale: 1)
            let plan = LoadPlan(rate: 400, total: 1600, kinds: LoadKinds.events)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim, poolSize: 1)) { h in
                var window = (0.0, 0.0)
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("slow_hello", seconds: 1)
                    window.0 = monotonicNow()
                    h.sim.applyFault("drop")
                    _ = await waitUntil(2) { h.client.stats.liveConnections == 0 }
                    #expect(await waitUntil(5) { h.client.stats.liveConnections == 1 })
                    try? await Task.sleep(for: .milliseconds(300))
                    window.1 = monotonicNow()
                }
                let gap = h.log.longestGap(from: window.0, to: window.1)
                #expect(gap >= 1.0, "a reconnect with a 1 s hello should leave a gap of 1 s or more, saw \(gap) s")
                expectDeliveredOnce(result, h.log, total: plan.total)
            }
        }
    }
}
