import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import Testing

/// A consumer that stops while Slack keeps sending: the client stops reading at the queue's
/// bound (TCP pushes back on the simulator), acks nothing it has not handed over, and once
/// the consumer resumes every event arrives, once.
@Suite("Swift API: backpressure from a stopped consumer", .serialized)
struct BackpressureTests {
    @Test("a consumer stopped for 8 s at 1 000 events/s: the queue stays within its bound, nothing is lost or doubled")
    func stoppedConsumer() async throws {
        // Slack turns an app's events off when under 5 % of an hour's deliveries were acked
        // in time; an 8 s stop in a test run of seconds trips that rule in the simulator (in
        // an hour of real traffic it would not). Off here: the test is about the client.
        let sim = try startSim { $0.config.disableMinDeliveries = 0 }
        defer { sim.stop() }
        let bound = 100
        let client = try SocketModeClient(
            appToken: simToken, options: clientOptions(for: sim) {
                $0.maxQueuedEvents = bound
                $0.ackGuardWaitsForConsumer = true
            })
        startRunning(client)
        #expect(await waitUntil(10) { sim.liveConnections() == 2 })

        // 1 000 events/s for 4 s, while the consumer does not read for 8 s.
        let total = 4_000
        let injector = Task {
            for _ in 0..<(total / 50) {
                sim.inject(kind: "message", count: 50)
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        var peak = 0
        let stopUntil = Date().addingTimeInterval(8)
        while Date() < stopUntil {
            peak = max(peak, client.stats.queuedEvents)
            try? await Task.sleep(for: .milliseconds(20))
        }
        await injector.value
        let stats = client.stats
        peak = max(peak, stats.peakQueuedEvents)
        print("stopped consumer: peak queue \(peak) (bound \(bound)), pauses \(stats.intakePauses), sim delivered \(sim.report().total.delivered) of \(total)")
        // Reading stopped at the bound: what was queued is the bound plus what one read per
        // connection had already brought in, far from what Slack sent.
        #expect(stats.intakePauses >= 1)
        #expect(peak >= bound)
        #expect(peak < bound + 2 * TransportRuntimeReadBudget.eventsPerRead)
        #expect(stats.pool.ackGuardFired == 0)

        // The consumer resumes: every event arrives once and is acked.
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        #expect(await waitUntil(30) { log.distinct == total })
        // Slack's later retries (60 s on) are still queued in the simulator: they are acked
        // and dropped as duplicates when they come; nothing was given up.
        let report = sim.report()
        await client.stop()
        _ = await consumer.value
        let pool = client.stats.pool
        print("after resume: delivered \(log.deliveries), distinct \(log.distinct), sim delivered \(report.total.delivered) acked \(report.total.acked) redelivered \(report.total.redelivered), failed \(report.total.failedAfterRetries), inFlight \(report.inFlight) queued \(report.queued); client delivered \(pool.envelopesDelivered) dup \(pool.duplicatesDropped) coalesced \(pool.redeliveriesCoalesced) guard \(pool.ackGuardFired) withheld \(pool.ackGuardWithheld) queue \(client.stats.queuedEvents) pauses \(client.stats.intakePauses) lost \(pool.connectionsLost)")
        // Every event reached the application, once.
        #expect(log.duplicates == 0)
        #expect(report.lost == 0)
        #expect(log.distinct == total)
        #expect(report.total.failedAfterRetries == 0)
        #expect(client.stats.peakQueuedEvents < bound + 2 * TransportRuntimeReadBudget.eventsPerRead)
    }
}

/// How many simulator events one 256 KiB read can carry at most (an event frame is well
/// over 512 bytes): the slack past the bound one read per connection may bring.
enum TransportRuntimeReadBudget {
    static let eventsPerRead = 256 * 1024 / 512
}
