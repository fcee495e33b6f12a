import Foundation
import Logging
import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// A worker's source against a real nats-server: deliveries, acks, redelivery after the
/// pause, dead letters at the limit.
@Suite("JetStreamWorkerSource: consume, redeliver, dead-letter", .serialized)
struct JetStreamWorkerSourceTests {
    private func publish(_ records: [EventRecord], to server: NATSServer) async throws {
        let sink = try JetStreamSink(name: "js", settings: JetStreamSettings(stream: "SLACK"),
                                     cluster: ClusterSettings(servers: [server.url], node: "producer"), logger: Logger(label: "test"))
        var outcome = await sink.accept(records)
        for _ in 0..<100 where outcome != .accepted {
            try await Task.sleep(for: .milliseconds(50))
            outcome = await sink.accept(records)
        }
        #expect(outcome == .accepted)
        await sink.close()
    }

    /// `next` until `count` deliveries came or `seconds` passed.
    private func take(_ count: Int, from source: JetStreamWorkerSource, within seconds: Double) async -> [StreamDelivery] {
        var taken: [StreamDelivery] = []
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while taken.count < count, ContinuousClock.now < deadline {
            if let batch = try? await source.next(max: 64, wait: .milliseconds(200)) { taken += batch }
        }
        return taken
    }

    @Test("every event is delivered; the processed ones never again, the failed ones after the pause, then to the dead letters")
    func lifecycle() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        try await publish((1...10).map { eventRecord(envelopeID: "env-\($0)", eventID: "Ev\($0)") }, to: server)
        var settings = WorkerSettings(name: "archive", stream: "SLACK", routes: [])
        settings.maxDeliver = 2
        settings.backoffSeconds = [0.3]
        let cluster = ClusterSettings(servers: [server.url], node: "worker")
        let source = try JetStreamWorkerSource(settings: settings, cluster: cluster, logger: Logger(label: "test"))

        let first = await take(10, from: source, within: 10)
        #expect(first.count == 10)
        #expect(Set(first.map { $0.record.eventID ?? "" }) == Set((1...10).map { "Ev\($0)" }))
        #expect(first.allSatisfy { $0.attempt == 1 })
        let failing: Set<String> = ["Ev3", "Ev7"]
        // Timed from before the naks go out: a test machine busy with other work can only
        // make the measured pause longer, never shorter.
        let started = ContinuousClock.now
        await source.settle(first.map { ($0, failing.contains($0.record.eventID ?? "") ? .failed("sink down") : .processed) })

        // Only the two failed ones come back, after the 0.3 s pause.
        let second = await take(2, from: source, within: 5)
        #expect(ContinuousClock.now - started >= .milliseconds(250))
        #expect(Set(second.map { $0.record.eventID ?? "" }) == failing)
        #expect(second.allSatisfy { $0.attempt == 2 })
        await source.settle(second.map { ($0, .failed("sink still down")) })

        // Their second failure is the last (max_deliver 2): to the dead letters, never delivered again.
        #expect(await take(1, from: source, within: 1.5).isEmpty)
        #expect(source.health.figures.contains { $0 == ("dead letters", "2") })
        let inspector = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        defer { inspector.close() }
        #expect(inspector.waitUntilConnected(seconds: 10))
        let dead = try #require(try inspector.fetchStream("SLACK_DEAD"))
        #expect(dead.messages == 2)
        #expect(dead.spec.subjects == ["sockeye_dead.SLACK.>"])

        // Listed with where they came from and why; a replay comes back to the worker once more.
        let store = try DeadLetterStore(stream: "SLACK", cluster: cluster)
        defer { store.close() }
        let letters = try store.list()
        #expect(letters.count == 2)
        #expect(Set(letters.compactMap { try? EventRecord(line: $0.line).eventID }) == failing)
        #expect(letters.allSatisfy { $0.worker == "archive" && $0.deliveries == 2 && $0.reason == "sink still down" })
        #expect(letters.allSatisfy { $0.subject == "slack.app.events_api.message" })
        #expect(try store.list(worker: "someone-else").isEmpty)
        try store.replay(letters[0], subjectPrefix: "slack")
        #expect(try store.list().count == 1)
        let replayed = await take(1, from: source, within: 5)
        #expect(replayed.count == 1 && replayed.first?.attempt == 1)
        #expect(replayed.first?.record.eventID == (try? EventRecord(line: letters[0].line).eventID))
        await source.settle(replayed.map { ($0, .processed) })
        await source.close()
    }

    @Test("two sources with one durable name share the events: each is processed once")
    func sharedDurable() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        try await publish((1...40).map { eventRecord(envelopeID: "env-\($0)", eventID: "Ev\($0)") }, to: server)
        let cluster = ClusterSettings(servers: [server.url], node: "worker")
        let settings = WorkerSettings(name: "shared", stream: "SLACK", routes: [])
        let a = try JetStreamWorkerSource(settings: settings, cluster: cluster, logger: Logger(label: "a"))
        let b = try JetStreamWorkerSource(settings: settings, cluster: cluster, logger: Logger(label: "b"))
        var seen: [String] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while seen.count < 40, ContinuousClock.now < deadline {
            for source in [a, b] {
                let batch = (try? await source.next(max: 7, wait: .milliseconds(100))) ?? []
                seen += batch.map { $0.record.eventID ?? "" }
                await source.settle(batch.map { ($0, .processed) })
            }
        }
        #expect(seen.count == 40)
        #expect(Set(seen).count == 40)
        await a.close()
        await b.close()
    }

    @Test("the worker's lag: events in the stream not given to it yet")
    func pending() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        try await publish((1...10).map { eventRecord(envelopeID: "env-\($0)", eventID: "Ev\($0)") }, to: server)
        let source = try JetStreamWorkerSource(settings: WorkerSettings(name: "lag", stream: "SLACK", routes: []),
                                               cluster: ClusterSettings(servers: [server.url], node: "worker"), logger: Logger(label: "test"))
        var batch: [StreamDelivery] = []
        for _ in 0..<50 where batch.isEmpty { batch = (try? await source.next(max: 4, wait: .milliseconds(200))) ?? [] }
        #expect(batch.count == 4)
        #expect(source.health.figures.contains { $0 == ("pending", "6") }, "\(source.health.figures)")
        await source.settle(batch.map { ($0, .processed) })
        await source.close()
    }
}
