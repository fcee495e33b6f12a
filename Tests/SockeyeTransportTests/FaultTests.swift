import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

extension FaultMatrix {
    /// Each network or Web API fault of the simulator hits a client in the middle of a load
    /// of mixed envelopes (events only where Slack itself would lose commands). Whatever the
    /// fault, the application sees every event exactly once, Slack gives up on no event and
    /// gets no stray ack, and the pool comes back. Commands are allowed to be lost at Slack
    /// only when the fault cuts TCP under them, within what was in flight at the cut.
    @Suite("faults under load")
    struct Faults {
        @Test("a TCP drop (FIN, no close frame) of one connection loses and repeats nothing")
        func tcpDrop() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("drop", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.stats.pool.connectionsLost >= 1)
                #expect(result.report.connectionsOpened >= 3)
            }
        }

        @Test("a TCP reset of every connection loses and repeats nothing")
        func tcpReset() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in h.sim.applyFault("rst") }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.stats.pool.connectionsLost >= 2)
                #expect(result.report.connectionsOpened >= 4)
            }
        }

        @Test("a connection Slack stops reading (its acks and pings go nowhere) is given up and no event is lost")
        func stall() async throws {
            // Slack keeps writing to the stalled connection (envelopes and pings) but reads
            // nothing: acks sent on it never arrive, and neither do the client's pings, so
            // no pong comes back. Events only: commands routed there before the client can
            // tell are lost by Slack whatever the client does.
            let sim = try startFaultSim()
            let plan = LoadPlan(kinds: LoadKinds.events)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("stall", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total)
                #expect(result.stats.pool.connectionsLost >= 1, "the stalled connection was never given up")
            }
        }

        @Test("a half-open connection (no bytes either way, TCP up) is detected by silence and replaced")
        func halfOpen() async throws {
            // Slack stops routing to a connection that missed three of its pings (1 s apart).
            // Without that, the half-open registration is a ghost that Slack keeps routing to
            // forever, and what it swallows is lost at Slack whatever the client does (docs/protocol.md, The connection limit).
            let sim = try startFaultSim { $0.config.maxMissedPongs = 3 }
            // Events only: while the client waits out the silence timeout, Slack keeps routing
            // to the half-open socket, and commands routed there are lost by Slack itself.
            let plan = LoadPlan(kinds: LoadKinds.events)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("half_open", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total)
                #expect(result.stats.pool.connectionsLost >= 1)
            }
        }

        @Test("a slow hello within the hello timeout delays reconnection but loses nothing")
        func slowHello() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("slow_hello", seconds: 1)
                    h.sim.applyFault("drop")
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.stats.pool.connectionsLost >= 2)
            }
        }

        @Test("a hello slower than the hello timeout is abandoned and retried until hellos are fast again")
        func helloTimeout() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            let options = faultClientOptions(for: sim) { $0.pool.helloTimeout = .milliseconds(600) }
            try await withFaultHarness(sim: sim, options: options) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("slow_hello", seconds: 5)
                    h.sim.applyFault("drop")
                    try? await Task.sleep(for: .milliseconds(1500))
                    h.sim.applyFault("slow_hello", seconds: 0)
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.stats.pool.connectionsLost >= 3, "hello timeouts count as losses")
            }
        }

        @Test("refused upgrades for a while are retried with backoff, then the pool recovers")
        func refusedUpgrades() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let refusedBefore = h.sim.report().connectionsRefused
                // One connection goes and its replacement is refused for 1.5 s; the other
                // carries the load (with both gone for longer than the ack deadline, acks
                // of envelopes received just before the cut would reach Slack late).
                let result = await runLoad(h, plan) { h in
                    h.sim.applyFault("refuse", seconds: 1.5)
                    h.sim.applyFault("drop", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                let refused = result.report.connectionsRefused - refusedBefore
                // Backoff from 50 ms doubling to 500 ms, single-flight: a handful of
                // attempts in 1.5 s, not hundreds.
                #expect(refused >= 1 && refused <= 30, "refused upgrades: \(refused)")
            }
        }

        @Test("ghost registrations swallow payloads; Slack's retries still reach the application once")
        func ghosts() async throws {
            let sim = try startFaultSim()
            // Events only: commands and interactions routed to a ghost are lost by Slack (docs/protocol.md, The connection limit).
            let plan = LoadPlan(kinds: LoadKinds.events)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    // Six stale registrations for 1.5 s take their turn in Slack's routing;
                    // one connection is lost and reconnects while they count.
                    h.sim.applyFault("ghosts", seconds: 1.5, count: 6)
                    h.sim.applyFault("drop", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.report.total.redelivered >= 1, "ghosts swallowed nothing: the test proves nothing")
                #expect((result.stats.pool.slackConnectionCount ?? 0) > 2, "hello.num_connections counted the ghosts")
            }
        }

        @Test("too_many_websockets shrinks the pool, backs off without hammering, and regrows once slots free up")
        func tooManyWebsockets() async throws {
            let sim = try startFaultSim()
            // Nine ghost registrations for 2 s: one slot left for a pool of two.
            sim.applyFault("ghosts", seconds: 2, count: 9)
            let plan = LoadPlan(kinds: LoadKinds.events, faultAfter: 1)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                #expect(await waitUntil(5) { h.client.stats.pool.tooManyWebsockets >= 1 })
                #expect(h.client.stats.liveConnections == 1)
                let result = await runLoad(h, plan) { _ in }
                expectDeliveredOnce(result, h.log, total: plan.total)
                let rejections = result.report.tooManyRejections
                // Backoff of 300 ms to 1 s with equal jitter over 2 s: a few rejections.
                #expect(rejections >= 1 && rejections <= 10, "too_many_websockets answers: \(rejections)")
                #expect(result.stats.targetConnections == 2)
            }
        }

        @Test("apps.connections.open answering 429 is retried no sooner than Retry-After")
        func rateLimitedOpen() async throws {
            // Slack's envelopes queue while no connection is up (3 s here) and arrive at once
            // when one is: a 10 s ack deadline keeps a loaded machine's slower drain of that
            // backlog from counting as loss; what is checked is the spacing of the calls.
            let sim = try startFaultSim(ackDeadline: 10) { $0.config.retryAfterSeconds = 1 }
            let plan = LoadPlan(rate: 300, total: 1200)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                var watch: OpenCallWatch?
                var faultAt = 0.0
                let result = await runLoad(h, plan) { h in
                    h.sim.setOpenError(OpenErrorMode(error: "ratelimited", remaining: 3))
                    watch = OpenCallWatch(h.sim, seconds: 8)
                    faultAt = monotonicNow()
                    h.sim.applyFault("rst")
                    _ = await waitUntil(2) { h.client.stats.liveConnections == 0 }
                    _ = await waitUntil(8) { h.client.stats.liveConnections >= 1 }
                    faultAt = monotonicNow() - faultAt
                }
                watch?.stop()
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                let calls = watch?.calls ?? []
                #expect(calls.count == 3, "429 answers seen: \(calls.count)")
                #expect((watch?.shortestInterval ?? 0) >= 0.9, "calls closer than Retry-After: \(calls)")
                #expect(h.sim.openErrorRemaining == nil)
                #expect(result.stats.pool.urlFailures >= 3)
                // Three 429s, each a floor of 1 s: no connection for at least 3 s.
                #expect(faultAt >= 2.9, "first connection back after \(faultAt) s")
            }
        }

        @Test("apps.connections.open answering 5xx is retried with backoff until it succeeds")
        func serverErrorOpen() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.setOpenError(OpenErrorMode(error: "http_503", remaining: 4))
                    h.sim.applyFault("rst")
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(h.sim.openErrorRemaining == nil, "the client stopped asking after a 5xx")
                #expect(result.stats.pool.urlFailures >= 4)
                #expect(result.stats.state != .failed(.fatalOpenError("http_503")))
            }
        }

        @Test("Slack's internal_error from apps.connections.open is retried, not fatal")
        func internalErrorOpen() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.setOpenError(OpenErrorMode(error: "internal_error", remaining: 2))
                    h.sim.applyFault("drop", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.stats.pool.urlFailures >= 2)
            }
        }

        @Test("warning under load opens a replacement beside the old connection, refresh_requested then closes the old, and nothing is lost")
        func warning() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    let old = h.sim.liveConnectionIDs().first
                    h.sim.sendDisconnect("warning", connection: old)
                    // Make before break: three live at Slack while the old one still works.
                    #expect(await waitUntil(3) { h.sim.liveConnections() == 3 })
                    #expect(h.sim.liveConnectionIDs().contains(old ?? -1))
                    try? await Task.sleep(for: .milliseconds(200))
                    h.sim.sendDisconnect("refresh_requested", connection: old)
                }
                expectDeliveredOnce(result, h.log, total: plan.total)
                #expect(result.report.connectionsOpened == 3, "a warning opens exactly one replacement")
                #expect(result.stats.pool.refreshes == 1)
            }
        }

        @Test("refresh_requested under load replaces the connection and loses nothing")
        func refreshRequested() async throws {
            let sim = try startFaultSim()
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in
                    h.sim.sendDisconnect("refresh_requested", connection: h.sim.liveConnectionIDs().first)
                }
                expectDeliveredOnce(result, h.log, total: plan.total)
                #expect(result.report.connectionsOpened == 3)
                // A planned refresh, not a loss (Slack's close of a retiring connection is expected).
                #expect(result.stats.pool.refreshes == 1 && result.stats.pool.connectionsLost == 0)
            }
        }

        @Test("refresh_requested followed by a TCP drop instead of a close loses nothing")
        func refreshThenDrop() async throws {
            let sim = try startFaultSim { $0.config.refreshClose = .tcpDrop }
            let plan = LoadPlan()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let result = await runLoad(h, plan) { h in h.sim.sendDisconnect("refresh_requested") }
                expectDeliveredOnce(result, h.log, total: plan.total, cutsTCP: true)
                #expect(result.report.connectionsOpened >= 4)
                // The drop ends connections already retiring: refreshes, not losses.
                #expect(result.stats.pool.refreshes == 2 && result.stats.pool.connectionsLost == 0)
            }
        }
    }
}
