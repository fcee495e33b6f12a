import Foundation
import Logging
import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// The jetstream sink against a real nats-server with JetStream on 127.0.0.1.
@Suite("JetStreamSink: against a real nats-server", .serialized)
struct JetStreamSinkTests {
    private func sink(_ server: NATSServer, stream: String = "SLACK", node: String = "n1",
                      configure: (inout JetStreamSettings) -> Void = { _ in }) throws -> JetStreamSink {
        var settings = JetStreamSettings(stream: stream)
        configure(&settings)
        return try JetStreamSink(name: "js", settings: settings, cluster: ClusterSettings(servers: [server.url], node: node),
                                 logger: Logger(label: "test"))
    }

    /// A connection of the test's own, to look at the stream.
    private func inspect(_ server: NATSServer, _ stream: String) throws -> StreamSnapshot? {
        let connection = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: "inspector"), answer: { _, _ in })
        defer { connection.close() }
        _ = connection.waitUntilConnected(seconds: 10)
        return try connection.fetchStream(stream)
    }

    /// `accept`, retried while the connection comes up (the sink connects in the background).
    private func acceptOnceConnected(_ sink: JetStreamSink, _ records: [EventRecord]) async -> SinkOutcome {
        var outcome = await sink.accept(records)
        for _ in 0..<100 where !outcome.refused.isEmpty {
            try? await Task.sleep(for: .milliseconds(50))
            outcome = await sink.accept(records)
        }
        return outcome
    }

    @Test("creates the stream, stores each event once, and a redelivery is a duplicate")
    func storesOnce() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let sink = try sink(server)
        let records = (1...5).map { eventRecord(envelopeID: "env-\($0)", eventID: "Ev\($0)") }
        #expect(await acceptOnceConnected(sink, records) == .accepted)
        let stream = try #require(try inspect(server, "SLACK"))
        #expect(stream.spec.subjects == ["slack.>"])
        #expect(stream.spec.fileStorage)
        #expect(stream.spec.duplicateWindowNanoseconds == 900_000_000_000)
        #expect(stream.spec.replicas == 1)
        #expect(stream.messages == 5)
        // Slack delivers three of them again (new envelope ids, same event ids): acked, not stored.
        let retries = (1...3).map { eventRecord(envelopeID: "retry-\($0)", eventID: "Ev\($0)") }
        #expect(await sink.accept(retries) == .accepted)
        #expect(try inspect(server, "SLACK")?.messages == 5)
        #expect(sink.health.figures.contains { $0 == ("duplicates", "3") })
        await sink.close()
    }

    @Test("two nodes taking the same events store them once")
    func twoNodesStoreOnce() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let first = try sink(server, node: "n1")
        let second = try sink(server, node: "n2")
        let records = (1...50).map { eventRecord(envelopeID: "env-\($0)", eventID: "Ev\($0)") }
        async let a = acceptOnceConnected(first, records)
        async let b = acceptOnceConnected(second, records)
        let (outcomeA, outcomeB) = await (a, b)
        #expect(outcomeA == .accepted && outcomeB == .accepted)
        #expect(try inspect(server, "SLACK")?.messages == 50)
        await first.close()
        await second.close()
    }

    @Test("the event line is the message, on the event's subject")
    func messageContent() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let sink = try sink(server) { $0.subjectPrefix = "acme.slack" }
        let record = eventRecord(app: "ops", envelopeID: "env-1", type: "slash_commands", command: "/deploy")
        #expect(await acceptOnceConnected(sink, [record]) == .accepted)
        let stream = try #require(try inspect(server, "SLACK"))
        #expect(stream.spec.subjects == ["acme.slack.>"])
        #expect(stream.messages == 1)
        #expect(stream.bytes > UInt64(record.line.count))
        await sink.close()
    }

    @Test("an existing stream's limits are brought to the settings")
    func updatesLimits() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let old = try sink(server) { $0.duplicateWindowSeconds = 120; $0.maxAgeSeconds = 3600 }
        #expect(await acceptOnceConnected(old, [eventRecord(envelopeID: "e1", eventID: "Ev1")]) == .accepted)
        await old.close()
        let new = try sink(server) { $0.maxBytes = 64 << 20 }
        #expect(await acceptOnceConnected(new, [eventRecord(envelopeID: "e2", eventID: "Ev2")]) == .accepted)
        let stream = try #require(try inspect(server, "SLACK"))
        #expect(stream.spec.duplicateWindowNanoseconds == 900_000_000_000)
        #expect(stream.spec.maxAgeNanoseconds == 7 * 86_400 * 1_000_000_000)
        #expect(stream.spec.maxBytes == 64 << 20)
        #expect(stream.messages == 2)
        await new.close()
    }

    @Test("with the server down, events are refused within the publish timeout; they are taken again once it is back")
    func serverDownAndBack() async throws {
        let server = try NATSServer()
        let sink = try sink(server) { $0.publishTimeoutSeconds = 0.5 }
        #expect(await acceptOnceConnected(sink, [eventRecord(envelopeID: "e1", eventID: "Ev1")]) == .accepted)
        let port = server.port
        let store = server.storeDirectory
        server.stop(signal: SIGKILL)

        let started = ContinuousClock.now
        let refused = await sink.accept([eventRecord(envelopeID: "e2", eventID: "Ev2"), eventRecord(envelopeID: "e3", eventID: "Ev3")])
        #expect(refused.refused == [0, 1])
        // Bounded by the 0.5 s timeout (generously: a busy test machine stretches it).
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(sink.health.problem != nil)

        let restarted = try NATSServer(port: port, store: store)
        defer { restarted.stop() }
        let outcome = await acceptOnceConnected(sink, [eventRecord(envelopeID: "e2b", eventID: "Ev2"), eventRecord(envelopeID: "e3b", eventID: "Ev3")])
        #expect(outcome == .accepted)
        #expect(sink.health.problem == nil)
        #expect(try inspect(restarted, "SLACK")?.messages == 3)
        await sink.close()
    }

    @Test("no server at start: the sink is created and refuses until one comes up")
    func noServerAtStart() async throws {
        let placeholder = try NATSServer()
        let port = placeholder.port
        placeholder.stop()
        var settings = JetStreamSettings(stream: "SLACK")
        settings.publishTimeoutSeconds = 0.2
        let sink = try JetStreamSink(name: "js", settings: settings,
                                     cluster: ClusterSettings(servers: ["nats://127.0.0.1:\(port)"], node: "n1"), logger: Logger(label: "test"))
        let refused = await sink.accept([eventRecord(envelopeID: "e1", eventID: "Ev1")])
        #expect(refused.refused == [0])
        #expect(refused.error?.contains("not connected") == true)
        let server = try NATSServer(port: port)
        defer { server.stop() }
        #expect(await acceptOnceConnected(sink, [eventRecord(envelopeID: "e1", eventID: "Ev1")]) == .accepted)
        await sink.close()
    }
}
