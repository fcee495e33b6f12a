import Dispatch
import Foundation
import Logging
import Metrics
import SockeyeSinkKit
import Synchronization

/// The `jetstream` sink (docs/cluster.md): each event's line is published to a JetStream
/// stream, and `accept` returns once the stream has stored it (its PubAck), so the daemon
/// acks Slack only for events in the stream.
///
/// Subjects and message ids are `JetStreamNaming`'s: a redelivered or retried event, or one
/// taken by two nodes, is stored once within the stream's duplicate window.
///
/// When the stream cannot take an event in time — no NATS server reachable, a stream leader
/// being elected (5 s or more, longer than Slack's 3 s), a stream that stopped answering — the
/// event is **not acked**: `accept` refuses it after at most `publishTimeoutSeconds`, and Slack
/// sends it again (at once, then after a minute and after five). Passing failures inside that
/// time are resent with the same id (`PublishRound`). Nothing is held on the node, so a node
/// that dies holds no events of its own; the cost is that a stream down for longer than
/// Slack's retries (about six minutes) loses the events Slack gives up on, as every sink that
/// refuses does. A sink that must ride out longer outages routes to a spool as well.
///
/// The stream is created, or its limits brought to the settings (`StreamPlan`), before the
/// first event is published, and again if it disappears. Until that has worked, events are
/// refused with the reason on the status page; another try is made at most every
/// `retryEverySeconds`.
///
/// Threading: `accept` may be called from many tasks at once. Stream administration blocks on
/// network round trips, so it runs on a serial dispatch queue of its own, never on Swift's
/// cooperative pool.
public final class JetStreamSink: EventSink {
    public let name: String
    public let settings: JetStreamSettings
    private let cluster: ClusterSettings
    private let logger: Logger
    private let publisher: JetStreamPublisher
    private let admin: DispatchQueue
    private let state = Mutex(State())
    private let storedCounter: Counter
    private let duplicateCounter: Counter
    private let refusedCounter: Counter
    private let batchTimer: Metrics.Timer
    private let failingGauge: Gauge
    private let answeredCounter: Counter
    private let unansweredCounter: Counter

    /// How soon a failed stream check is tried again.
    public static let retryEverySeconds: Double = 1

    private struct State {
        /// Where workers send answers (made on the first batch that waits for one).
        var inbox: AnswerInbox?
        var nextAnswerToken: UInt64 = 1
        var streamReady = false
        var lastCheck: ContinuousClock.Instant?
        var checking: Task<JetStreamError?, Never>?
        var problem = ProblemMark<JetStreamError>()
        var stored = 0
        /// How long the last batch took to be stored (all its PubAcks), in milliseconds.
        var lastBatchMilliseconds: Double?
        var duplicates = 0
        var refused = 0
    }

    /// The sink `name` publishing to `settings.stream` on `cluster`'s servers. Returns at once
    /// (the connection and the stream check go on in the background); throws only for
    /// settings libnats refuses.
    public convenience init(name: String, settings: JetStreamSettings, cluster: ClusterSettings, logger: Logger) throws(JetStreamError) {
        try self.init(name: name, settings: settings, cluster: cluster, logger: logger) { answer throws(JetStreamError) in
            try CNatsConnection(cluster: cluster, answer: answer)
        }
    }

    /// As the public `init`, over a connection made by `connect` (tests).
    package init(name: String, settings: JetStreamSettings, cluster: ClusterSettings, logger: Logger,
                 connect: (@escaping JetStreamAnswerHandler) throws(JetStreamError) -> any JetStreamConnection) throws(JetStreamError) {
        self.name = name
        self.settings = settings
        self.cluster = cluster
        self.logger = logger
        publisher = try JetStreamPublisher(connect: connect)
        admin = DispatchQueue(label: "sockeyed.jetstream.\(name)")
        storedCounter = Counter(label: "sockeyed_jetstream_messages_total", dimensions: [("sink", name), ("result", "stored")])
        duplicateCounter = Counter(label: "sockeyed_jetstream_messages_total", dimensions: [("sink", name), ("result", "duplicate")])
        refusedCounter = Counter(label: "sockeyed_jetstream_messages_total", dimensions: [("sink", name), ("result", "refused")])
        batchTimer = Metrics.Timer(label: "sockeyed_jetstream_batch_seconds", dimensions: [("sink", name)])
        failingGauge = Gauge(label: "sockeyed_sink_failing", dimensions: [("sink", name)])
        answeredCounter = Counter(label: "sockeyed_jetstream_answers_total", dimensions: [("sink", name), ("result", "answered")])
        unansweredCounter = Counter(label: "sockeyed_jetstream_answers_total", dimensions: [("sink", name), ("result", "none_in_time")])
    }

    public var health: SinkHealth {
        let snapshot = state.withLock { $0 }
        var figures = [("stream", settings.stream), ("stored", String(snapshot.stored))]
        if snapshot.duplicates > 0 { figures.append(("duplicates", String(snapshot.duplicates))) }
        if snapshot.refused > 0 { figures.append(("refused", String(snapshot.refused))) }
        if let last = snapshot.lastBatchMilliseconds { figures.append(("last batch stored in", String(format: "%.1f ms", last))) }
        return SinkHealth(kind: "jetstream", problem: snapshot.problem.problem.map { "\($0.message); what to do: \(advice($0))" },
                          since: snapshot.problem.since, figures: figures)
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        if let failure = await streamReady() {
            count(refused: records.count)
            return .refusedAll(records.count, "sink \(name): \(failure.message)")
        }
        let started = ContinuousClock.now
        // Slash commands and interactions wait for a worker's answer (when configured).
        let inbox = settings.answerWaitSeconds != nil && records.contains(where: \.acceptsResponsePayload) ? answerInbox() : nil
        var answerTokens: [(index: Int, token: UInt64)] = []
        var messages: [OutgoingMessage] = []
        messages.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            var message = OutgoingMessage(subject: JetStreamNaming.subject(prefix: settings.subjectPrefix, record: record),
                                          messageID: JetStreamNaming.messageID(record), payload: record.line)
            if let inbox, record.acceptsResponsePayload {
                let token = state.withLock { state in
                    defer { state.nextAnswerToken += 1 }
                    return state.nextAnswerToken
                }
                answerTokens.append((index, token))
                message.headers = [(AnswerInbox.header, inbox.subject(for: token))]
            }
            messages.append(message)
        }
        inbox?.expect(answerTokens.map(\.token))
        let report = await publisher.publish(messages, timeout: settings.publishTimeoutSeconds)
        let elapsed = ContinuousClock.now - started
        batchTimer.recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
        storedCounter.increment(by: report.stored - report.duplicates)
        duplicateCounter.increment(by: report.duplicates)
        count(refused: report.refused.count)
        if report.error?.kind == .streamNotFound {
            state.withLock { $0.streamReady = false }
        }
        if let error = report.error {
            noteProblem(error)
        } else {
            clearProblem()
        }
        state.withLock { state in
            state.stored += report.stored
            state.duplicates += report.duplicates
            state.lastBatchMilliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        }
        var responses: [Int: [UInt8]] = [:]
        if let inbox, let wait = settings.answerWaitSeconds {
            let refused = Set(report.refused)
            let waiting = answerTokens.filter { !refused.contains($0.index) }
            let answers = await inbox.wait(for: waiting.map(\.token), until: started + .milliseconds(Int64(wait * 1000)))
            for (index, token) in waiting { if let answer = answers[token] { responses[index] = answer } }
            answeredCounter.increment(by: responses.count)
            unansweredCounter.increment(by: waiting.count - responses.count)
        }
        return SinkOutcome(refused: report.refused, error: report.error.map { "sink \(name): \($0.message)" }, responses: responses)
    }

    /// The answers' inbox, subscribed on the first call (nil while that fails: the batch is
    /// then acked without answers).
    private func answerInbox() -> AnswerInbox? {
        if let inbox = state.withLock({ $0.inbox }) { return inbox }
        guard let connection = publisher.connection as? CNatsConnection else { return nil }
        do {
            let made = try AnswerInbox(connection: connection)
            return state.withLock { state in
                if state.inbox == nil { state.inbox = made }
                return state.inbox
            }
        } catch {
            logger.warning("sink \(name) cannot wait for answers now: \(error.message)")
            return nil
        }
    }

    public func close() async {
        state.withLock { $0.inbox }?.close()
        let connection = publisher.connection
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            admin.async {
                connection.close()
                continuation.resume()
            }
        }
    }

    // MARK: The stream

    /// nil once the stream exists as configured (checking it first when needed), else why not.
    private func streamReady() async -> JetStreamError? {
        enum Next { case ready, refuse(JetStreamError), wait(Task<JetStreamError?, Never>) }
        let next = state.withLock { state -> Next in
            if state.streamReady { return .ready }
            if let checking = state.checking { return .wait(checking) }
            if let last = state.lastCheck, ContinuousClock.now - last < .milliseconds(Int64(Self.retryEverySeconds * 1000)),
               let problem = state.problem.problem {
                return .refuse(problem)
            }
            state.lastCheck = .now
            let task = Task { await self.checkStream() }
            state.checking = task
            return .wait(task)
        }
        switch next {
        case .ready: return nil
        case .refuse(let problem): return problem
        case .wait(let task): return await task.value
        }
    }

    /// Creates or updates the stream (on the admin queue); nil when it is ready.
    private func checkStream() async -> JetStreamError? {
        let connection = publisher.connection
        let outcome: Result<String?, JetStreamError> = await withCheckedContinuation { continuation in
            admin.async { [settings] in
                continuation.resume(returning: Self.prepare(settings, on: connection))
            }
        }
        return state.withLock { state -> JetStreamError? in
            state.checking = nil
            switch outcome {
            case .success(let change):
                state.streamReady = true
                if let change { logger.notice("\(change)", metadata: ["sink": "\(name)"]) }
                return nil
            case .failure(let error):
                return error
            }
        }.map { error in
            noteProblem(error)
            return error
        }
    }

    /// Brings the stream to `settings` over `connection` (blocking): what was done, for the
    /// log (nil when nothing), or why it cannot be done.
    private static func prepare(_ settings: JetStreamSettings, on connection: any JetStreamConnection) -> Result<String?, JetStreamError> {
        guard connection.isConnected else { return .failure(JetStreamError(.unavailable, "not connected to a NATS server")) }
        let wanted = StreamSpec.wanted(by: settings, serverCount: connection.serverCount)
        do throws(JetStreamError) {
            switch StreamPlan.plan(wanted: wanted, existing: try connection.fetchStream(settings.stream)?.spec) {
            case .keep:
                return .success(nil)
            case .create(let spec):
                try connection.createStream(spec)
                return .success("created stream \(spec.name) for \(spec.subjects.joined(separator: ", ")) (file storage, R\(spec.replicas))")
            case .update(let spec, let changes):
                try connection.updateStream(spec)
                return .success("updated stream \(spec.name): \(changes.joined(separator: ", "))")
            case .conflict(let reason):
                return .failure(JetStreamError(.refused, reason))
            }
        } catch {
            return .failure(error)
        }
    }

    // MARK: Health

    private func count(refused: Int) {
        guard refused > 0 else { return }
        refusedCounter.increment(by: refused)
        state.withLock { $0.refused += refused }
    }

    private func noteProblem(_ error: JetStreamError) {
        if state.withLock({ $0.problem.set(error) }) {
            failingGauge.record(1)
            logger.error("sink \(name) refuses events (Slack will deliver them again): \(error.message); what to do: \(advice(error))")
        }
    }

    private func clearProblem() {
        if state.withLock({ $0.problem.clear() }) {
            failingGauge.record(0)
            logger.notice("sink \(name) takes events again")
        }
    }

    private func advice(_ error: JetStreamError) -> String {
        switch error.kind {
        case .unavailable: "check that the NATS servers of `cluster:` run with JetStream (-js) and that a stream leader is elected"
        case .streamNotFound: "nothing: the stream is created again before the next event"
        case .refused: "fix the stream or the sink's settings, then send SIGHUP or restart sockeyed"
        }
    }
}
