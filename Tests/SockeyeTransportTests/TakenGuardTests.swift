import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import Testing

/// The ack guard answers only events the application took out of the stream: one still
/// waiting there is never acked (a crash would lose it), and Slack's redelivery of it
/// joins the queued copy instead of reaching the application twice.
@Suite("Swift API: the ack guard and events still queued", .serialized)
struct TakenGuardTests {
    @Test("an event waiting in the stream is not acked by the guard; once taken it is, with its redelivery")
    func queuedEventsAreNotGuarded() async throws {
        let sim = try startSim { $0.config.retryDelays = [0, 1, 1] }
        defer { sim.stop() }
        let client = try SocketModeClient(
            appToken: simToken, options: clientOptions(for: sim) {
                $0.ackGuard = .milliseconds(300)
                $0.ackGuardWaitsForConsumer = true
            })
        startRunning(client)
        var events = client.events.makeAsyncIterator()
        #expect(await waitUntil(10) { sim.liveConnections() >= 1 })
        sim.inject(kind: "message", count: 1)
        let first = try await events.next()
        #expect(first != nil)
        // Taken and never answered: the guard acks it.
        #expect(await waitUntil(30) { sim.report().total.acked == 1 })

        // Ten more, left in the stream: past Slack's deadline Slack redelivers every one,
        // which it does only for envelopes nobody acked.
        sim.inject(kind: "message", count: 10)
        #expect(await waitUntil(30) { sim.report().total.redelivered >= 10 })
        #expect(sim.report().total.acked == 1)
        #expect(client.stats.pool.ackGuardFired == 1)
        #expect(client.stats.pool.ackGuardWithheld >= 10)

        // The application comes back: each queued event is handed over once and the guard
        // acks it (and its attached redeliveries) as it is taken.
        var ids: Set<String> = []
        for _ in 0..<10 {
            guard let event = try await events.next() else { break }
            ids.insert(event.eventID ?? "")
        }
        #expect(ids.count == 10)
        let report = await waitSettled(sim, seconds: 30)
        #expect(report.total.failedAfterRetries == 0)
        #expect(report.total.unknownAcks == 0 && report.total.duplicateAcks == 0)
        #expect(client.stats.pool.envelopesDelivered == 11)
        #expect(client.stats.pool.ackGuardFired == 11)
        await client.stop()
    }
}
