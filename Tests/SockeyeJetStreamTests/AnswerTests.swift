import Foundation
import Logging
import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// Slash-command answers through NATS request–reply around the stream, on a real nats-server:
/// the node's sink waits for the answer a worker's sinks produced.
@Suite("Answers: a worker answers a slash command for the node that received it", .serialized)
struct AnswerTests {
    private let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func sink(_ server: NATSServer, wait: Double?) throws -> JetStreamSink {
        var settings = JetStreamSettings(stream: "SLACK")
        settings.answerWaitSeconds = wait
        return try JetStreamSink(name: "js", settings: settings, cluster: ClusterSettings(servers: [server.url], node: "node"),
                                 logger: logger)
    }

    /// Accepts `records` (again while the stream is being created), within a bound.
    private func accept(_ records: [EventRecord], on sink: JetStreamSink) async throws -> SinkOutcome {
        var outcome = await sink.accept(records)
        for _ in 0..<100 where !outcome.refused.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            outcome = await sink.accept(records)
        }
        return outcome
    }

    /// A worker that answers each slash command with `{"text":"<command> done"}` and
    /// processes the rest, for `seconds`.
    private func runWorker(_ server: NATSServer, for seconds: Double, answering: Bool = true) async throws -> Int {
        let source = try JetStreamWorkerSource(settings: WorkerSettings(name: "answers", stream: "SLACK", routes: []),
                                               cluster: ClusterSettings(servers: [server.url], node: "worker"), logger: logger)
        var answered = 0
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            guard let batch = try? await source.next(max: 16, wait: .milliseconds(100)) else { continue }
            await source.settle(batch.map { delivery in
                guard answering, delivery.record.acceptsResponsePayload else { return (delivery, .processed) }
                answered += 1
                return (delivery, .answered(Array(#"{"text":"\#(delivery.record.envelopeID) done"}"#.utf8)))
            })
        }
        await source.close()
        return answered
    }

    @Test("the worker's answer comes back in the outcome; an event in the same batch is stored without one")
    func answered() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let sink = try sink(server, wait: 2.5)
        // The stream exists before the worker binds its consumer.
        _ = try await accept([eventRecord(envelopeID: "warm-up", eventID: "Ev0")], on: sink)
        let worker = Task { try await runWorker(server, for: 6) }
        try await Task.sleep(for: .milliseconds(300))
        let records = [eventRecord(envelopeID: "cmd-1", type: "slash_commands", event: nil, command: "/deploy"),
                       eventRecord(envelopeID: "env-2", eventID: "Ev2")]
        let outcome = try await accept(records, on: sink)
        #expect(outcome.refused.isEmpty)
        #expect(outcome.responses[0].map { String(decoding: $0, as: UTF8.self) } == #"{"text":"cmd-1 done"}"#)
        #expect(outcome.responses[1] == nil)
        #expect(try await worker.value == 1)
        await sink.close()
    }

    @Test("no answer in time: the batch is stored and answered with nothing at the wait's end")
    func unanswered() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let sink = try sink(server, wait: 0.5)
        _ = try await accept([eventRecord(envelopeID: "warm-up", eventID: "Ev0")], on: sink)
        let worker = Task { try await runWorker(server, for: 3, answering: false) }
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        let outcome = try await accept([eventRecord(envelopeID: "cmd-1", type: "slash_commands", event: nil, command: "/deploy")], on: sink)
        let waited = ContinuousClock.now - started
        #expect(outcome.refused.isEmpty && outcome.responses.isEmpty)
        // Waited for the answer, then gave up at the wait's end (the upper bound is generous:
        // a loaded machine may be late, never early).
        #expect(waited >= .milliseconds(450) && waited < .seconds(10), "\(waited)")
        _ = try await worker.value
        await sink.close()
    }

    @Test("without answer_wait nothing waits and no header goes out (the worker sees no answer wanted)")
    func notWaiting() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let sink = try sink(server, wait: nil)
        _ = try await accept([eventRecord(envelopeID: "cmd-1", type: "slash_commands", event: nil, command: "/deploy")], on: sink)
        #expect(try await runWorker(server, for: 2) == 0)
        await sink.close()
    }

    @Test("an answer that arrives before the wait begins is kept if it was expected, dropped if not")
    func earlyAnswers() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let connection = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: "node"), answer: { _, _ in })
        defer { connection.close() }
        #expect(connection.waitUntilConnected(seconds: 10))
        let inbox = try AnswerInbox(connection: connection)
        defer { inbox.close() }
        inbox.expect([1])
        #expect(connection.publishCore(subject: inbox.subject(for: 1), payload: Array(#"{"text":"early"}"#.utf8)) == nil)
        #expect(connection.publishCore(subject: inbox.subject(for: 2), payload: Array(#"{"text":"unasked"}"#.utf8)) == nil)
        try await Task.sleep(for: .milliseconds(300))
        let started = ContinuousClock.now
        let answers = await inbox.wait(for: [1], until: .now + .seconds(5))
        #expect(answers[1].map { String(decoding: $0, as: UTF8.self) } == #"{"text":"early"}"#)
        // It was in already: the wait did not run to its 5 s end (generous: a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(4), "it was in already")
        let none = await inbox.wait(for: [2], until: .now + .milliseconds(200))
        #expect(none.isEmpty, "an answer nobody expected is not kept")
    }

    @Test("a header can only name an inbox subject")
    func answerSubjects() {
        #expect(JetStreamWorkerSource.isAnswerSubject("_INBOX.sockeye.0123abcd.17"))
        #expect(!JetStreamWorkerSource.isAnswerSubject("slack.app.events_api.message"))
        #expect(!JetStreamWorkerSource.isAnswerSubject("_INBOX.>"))
        #expect(!JetStreamWorkerSource.isAnswerSubject("_INBOX.a.*"))
        #expect(!JetStreamWorkerSource.isAnswerSubject("_INBOX.a..b"))
        #expect(!JetStreamWorkerSource.isAnswerSubject("_INBOX.a b"))
    }
}
