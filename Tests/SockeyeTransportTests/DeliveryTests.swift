import Foundation
import Sockeye
import SockeyeCore
import SockeyeSim
import SockeyeTransport
import Testing

@Suite("Socket Mode client against the simulator", .serialized)
struct DeliveryTests {
    static let kinds = ["app_mention", "message", "reaction_added", "slash_command", "block_actions", "view_submission", "shortcut"]

    @Test("every injected envelope reaches the application once and is acked once, over ws")
    func deliversOnceOverWS() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        let log = DeliveryLog()
        let consumer = consume(client, into: log)
        #expect(await waitUntil(10) { sim.liveConnections() == 2 })
        for kind in Self.kinds { sim.inject(kind: kind, count: 30) }
        let total = Self.kinds.count * 30
        #expect(await waitUntil(15) { log.distinct == total })
        let report = await waitSettled(sim)
        await client.stop()
        _ = await consumer.value
        #expect(log.distinct == total)
        #expect(log.duplicates == 0)
        #expect(report.total.acked == report.total.delivered)
        #expect(report.total.failedAfterRetries == 0)
        #expect(report.total.unknownAcks == 0 && report.total.duplicateAcks == 0)
    }

    @Test("slash command response payloads reach Slack in the ack")
    func responsePayload() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        let log = DeliveryLog()
        let consumer = consume(client, into: log) { event in
            if event.acceptsResponsePayload {
                try await event.ack(payload: #"{"text":"hi"}"#)
            } else {
                try await event.ack()
            }
        }
        #expect(await waitUntil(10) { sim.liveConnections() >= 1 })
        sim.inject(kind: "slash_command", count: 5)
        #expect(await waitUntil(10) { log.distinct == 5 })
        let report = await waitSettled(sim)
        await client.stop()
        _ = await consumer.value
        #expect(report.total.responsePayloads == 5)
    }

    @Test("an invalid or oversized ack payload is refused and the event stays acknowledgeable")
    func invalidAckPayload() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        startRunning(client)
        #expect(await waitUntil(10) { sim.liveConnections() >= 1 })
        sim.inject(kind: "slash_command", count: 1)
        var iterator = client.events.makeAsyncIterator()
        let event = try #require(try await iterator.next())
        await #expect(throws: SocketModeError.self) { try await event.ack(payload: "{not json") }
        let big = "{\"text\":\"" + String(repeating: "x", count: 20_480) + "\"}"
        await #expect(throws: SocketModeError.self) { try await event.ack(payload: big) }
        try await event.ack(payload: #"{"text":"ok"}"#)
        await #expect(throws: SocketModeError.alreadyAnswered) { try await event.ack() }
        let report = await waitSettled(sim)
        #expect(report.total.acked == 1)
        #expect(report.total.responsePayloads == 1)
        await client.stop()
    }

    @Test("tokens that are not app-level fail before any connection, naming their kind")
    func tokenCheck() throws {
        for (token, kind) in [("xoxb-1-2-3", AppTokenKind.bot), ("xoxp-1-2", .user), ("xoxe.xoxp-1-abc", .rotating),
                              ("xoxs-legacy", .legacy("xoxs")), ("", .empty)] {
            do {
                _ = try SocketModeClient(appToken: token)
                Issue.record("\(token) was accepted")
            } catch {
                guard case .invalidToken(let found, let why) = error else {
                    Issue.record("unexpected \(error)"); continue
                }
                #expect(found == kind)
                #expect(why.contains("xapp-") && why.contains("connections:write"))
            }
        }
    }

    @Test("a nacked event is redelivered by Slack and delivered again")
    func nackRedelivers() async throws {
        let sim = try startSim { $0.config.ackDeadline = 0.3; $0.config.timeScale = 100 }
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim))
        let attempts = AttemptLog()
        let log = DeliveryLog()
        let consumer = consume(client, into: log) { event in
            if attempts.add(event.retryAttempt) == 1 { try event.nack() } else { try await event.ack() }
        }
        #expect(await waitUntil(10) { sim.liveConnections() >= 1 })
        sim.inject(kind: "app_mention", count: 1)
        #expect(await waitUntil(15) { attempts.values.count >= 2 })
        let report = await waitSettled(sim)
        await client.stop()
        _ = await consumer.value
        let final = attempts.values
        #expect(final.count == 2)
        #expect(final.last ?? 0 >= 1)
        #expect(report.total.redelivered >= 1)
        #expect(report.total.failedAfterRetries == 0)
    }

    @Test("a host that never acks is covered by the ack guard")
    func ackGuard() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let client = try SocketModeClient(appToken: simToken, options: clientOptions(for: sim) { $0.ackGuard = .milliseconds(300) })
        let log = DeliveryLog()
        let consumer = consume(client, into: log) { _ in }  // never answers
        #expect(await waitUntil(10) { sim.liveConnections() >= 1 })
        sim.inject(kind: "message", count: 20)
        #expect(await waitUntil(10) { log.distinct == 20 })
        let report = await waitSettled(sim)
        await client.stop()
        _ = await consumer.value
        #expect(report.total.acked == 20)
        #expect(report.total.redelivered == 0)
        #expect(client.stats.pool.ackGuardFired == 20)
    }
}

/// Retry attempts seen, in order.
final class AttemptLog: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [Int] = []
    /// Records one; returns how many were recorded so far.
    func add(_ attempt: Int) -> Int { lock.withLock { seen.append(attempt); return seen.count } }
    var values: [Int] { lock.withLock { seen } }
}
