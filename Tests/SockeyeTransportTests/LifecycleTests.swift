import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

/// Every state the client publishes, in order.
final class StateLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [PoolState] = []
    private var task: Task<Void, Never>?

    init(_ client: SocketModeClient) {
        let states = client.states
        task = Task { [self] in
            for await state in states { lock.withLock { seen.append(state) } }
        }
    }

    var states: [PoolState] { lock.withLock { seen } }
    func stop() { task?.cancel() }
}

extension FaultMatrix {
    /// How the client ends: for good on `link_disabled` and fatal token errors (with the
    /// reason, and without a reconnect loop), and gracefully on `stop()` without losing
    /// anything the application acked.
    @Suite("terminal states and stop")
    struct Lifecycle {
        /// Checks that nothing reconnects for `seconds`: the client asks for no URL and the
        /// simulator accepts no connection.
        static func expectNoReconnectLoop(_ h: FaultHarness, seconds: Double,
                                          sourceLocation: SourceLocation = #_sourceLocation) async {
            let urls = h.client.stats.pool.urlRequests
            let opened = h.sim.report().connectionsOpened
            try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            #expect(h.client.stats.pool.urlRequests == urls, "apps.connections.open called again", sourceLocation: sourceLocation)
            #expect(h.sim.report().connectionsOpened == opened, "a connection was opened again", sourceLocation: sourceLocation)
        }

        @Test("link_disabled under load ends the client for good, with the reason, and no reconnect loop")
        func linkDisabled() async throws {
            let sim = try startFaultSim(ackDeadline: 3, timeScale: 1)
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let states = StateLog(h.client)
                #expect(await waitUntil(10) { h.isLive() })
                #expect(h.sim.startLoad(LoadSpec(rate: 400, total: 800, kinds: LoadKinds.mixed)))
                #expect(await waitUntil(10) { h.log.distinct >= 200 })
                h.sim.sendDisconnect("link_disabled")
                let ended = await within(5) { await h.consumer.value }
                guard case .some(.some(let error)) = ended else {
                    Issue.record("events did not end with an error after link_disabled: \(String(describing: ended))")
                    return
                }
                #expect(error as? SocketModeError == .terminated(.linkDisabled))
                #expect(await waitUntil(3) { states.states.contains(.failed(.linkDisabled)) }, "states: \(states.states)")
                #expect(await waitUntil(5) { h.client.stats.liveConnections == 0 && h.sim.liveConnections() == 0 })
                await Self.expectNoReconnectLoop(h, seconds: 1.5)
                #expect(h.client.stats.state == .failed(.linkDisabled))
                let report = h.sim.report()
                #expect(h.log.duplicates == 0)
                #expect(report.total.unknownAcks == 0 && report.total.duplicateAcks == 0)
                states.stop()
            }
        }

        @Test("invalid_auth from apps.connections.open ends the client at once, with the reason, after one call")
        func invalidAuth() async throws {
            let sim = try startFaultSim()
            // A large count so that every call is counted by the simulator.
            sim.setOpenError(OpenErrorMode(error: "invalid_auth", remaining: 100))
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { h in
                let states = StateLog(h.client)
                let ended = await within(5) { await h.consumer.value }
                guard case .some(.some(let error)) = ended else {
                    Issue.record("events did not end with an error after invalid_auth: \(String(describing: ended))")
                    return
                }
                #expect(error as? SocketModeError == .terminated(.fatalOpenError("invalid_auth")))
                #expect(await waitUntil(3) { states.states.contains(.failed(.fatalOpenError("invalid_auth"))) }, "states: \(states.states)")
                await Self.expectNoReconnectLoop(h, seconds: 1.5)
                #expect(h.sim.openErrorRemaining == 99, "apps.connections.open calls: \(100 - (h.sim.openErrorRemaining ?? 0))")
                #expect(h.client.stats.pool.urlRequests == 1)
                #expect(h.sim.report().connectionsOpened == 0)
                states.stop()
            }
        }

        @Test("an app token Slack does not know ends the client with invalid_auth and no retry")
        func unknownToken() async throws {
            let sim = try startFaultSim()
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim), token: "xapp-1-A0NOTKNOWN-1-wrongsecret") { h in
                let ended = await within(5) { await h.consumer.value }
                guard case .some(.some(let error)) = ended else {
                    Issue.record("events did not end with an error for an unknown token: \(String(describing: ended))")
                    return
                }
                #expect(error as? SocketModeError == .terminated(.fatalOpenError("invalid_auth")))
                await Self.expectNoReconnectLoop(h, seconds: 1.5)
                #expect(h.client.stats.pool.urlRequests == 1)
                #expect(h.client.stats.state == .failed(.fatalOpenError("invalid_auth")))
            }
        }

        @Test("after a fatal open error, envelopes still arriving on a live connection are never acked unseen")
        func fatalErrorWithLiveConnection() async throws {
            // One connection is lost, its replacement's URL request fails for good; the
            // other connection stays open and Slack keeps routing to it. Whatever the
            // client does with those envelopes, it must not ack what the application never
            // saw: that is a silent loss (Slack will not retry an acked event).
            let sim = try startFaultSim(ackDeadline: 3, timeScale: 1)
            let options = faultClientOptions(for: sim) { $0.ackMode = .afterHandler; $0.ackGuard = .milliseconds(500) }
            try await withFaultHarness(sim: sim, options: options) { h in
                let states = StateLog(h.client)
                #expect(await waitUntil(10) { h.isLive() })
                h.sim.setOpenError(OpenErrorMode(error: "invalid_auth"))
                h.sim.applyFault("drop", connection: h.sim.liveConnectionIDs().first)
                let ended = await within(5) { await h.consumer.value }
                #expect(await waitUntil(2) { states.states.contains(.failed(.fatalOpenError("invalid_auth"))) },
                        "states: \(states.states), events ended with \(String(describing: ended)), stats state \(h.client.stats.state)")
                defer { states.stop() }
                let seenBefore = h.log.distinct
                let ackedBefore = h.sim.report().total.acked
                h.sim.inject(kind: "app_mention", count: 20)
                h.sim.inject(kind: "slash_command", count: 5)
                try? await Task.sleep(for: .milliseconds(1500))
                let report = h.sim.report()
                let ackedUnseen = (report.total.acked - ackedBefore) - (h.log.distinct - seenBefore)
                #expect(ackedUnseen <= 0, """
                    \(ackedUnseen) envelopes acked at Slack that the application never saw \
                    (client live \(h.client.stats.liveConnections), delivered \(h.client.stats.pool.envelopesDelivered), \
                    states \(states.states), stats state \(h.client.stats.state))
                    \(report.table())
                    """)
            }
        }

        @Test("stop() under load sends every ack the application made, and what it did not take is redelivered to the next client")
        func stopUnderLoad() async throws {
            // Events only: an envelope arriving while the client drains is left unacked so
            // that Slack redelivers it, which Slack does for events alone.
            let sim = try startFaultSim()
            let total = 1200
            let first = try FaultHarness(sim: sim, options: faultClientOptions(for: sim), ackDelayMillis: 0...40)
            #expect(await waitUntil(10) { first.isLive() })
            #expect(sim.startLoad(LoadSpec(rate: 400, total: total, kinds: LoadKinds.events)))
            #expect(await waitUntil(10) { first.log.distinct >= 400 })
            let stopped = await within(10) { await first.client.stop(); return true }
            #expect(stopped == true, "stop() did not return")
            let firstEnded = await within(5) { await first.consumer.value }
            #expect(firstEnded != nil, "events did not end after stop()")
            // Acks made by the application after stop() returned could not be sent; give
            // the ack tasks their 40 ms, then count only acks made before.
            try? await Task.sleep(for: .milliseconds(100))
            let seenFirst = first.log.keys
            let ackedFirst = first.log.ackedKeys
            let ackedAtSlack = sim.report().total.acked
            #expect(ackedFirst.count == seenFirst.count, "the application acked \(ackedFirst.count) of \(seenFirst.count)")
            #expect(ackedAtSlack >= ackedFirst.count, "Slack got \(ackedAtSlack) acks, the application made \(ackedFirst.count)")

            // A successor takes over: everything the first did not ack reaches it, and
            // nothing the first acked does.
            try await withFaultHarness(sim: sim, options: faultClientOptions(for: sim)) { second in
                _ = await waitUntil(30) { seenFirst.union(second.log.keys).count >= total }
                let report = await waitSettled(sim, seconds: 15)
                let seenSecond = second.log.keys
                let both = seenFirst.intersection(seenSecond)
                #expect(seenFirst.union(seenSecond).count == total, "\(seenFirst.count) + \(seenSecond.count) of \(total)\n\(report.table())")
                #expect(both.isEmpty, "\(both.count) events acked by the first client reached the second")
                #expect(first.log.duplicates == 0 && second.log.duplicates == 0)
                #expect(report.total.failedAfterRetries == 0 && report.total.userVisibleFailures == 0, "\(report.table())")
                #expect(report.total.unknownAcks == 0 && report.total.duplicateAcks == 0)
            }
        }
    }
}
