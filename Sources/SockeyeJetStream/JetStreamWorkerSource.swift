import Dispatch
import Foundation
import Logging
import Metrics
import SockeyeSinkKit
import Synchronization

/// A worker's events from a JetStream stream: a durable pull consumer whose deliveries the
/// daemon's worker routes to its sinks (docs/cluster.md, Workers).
///
/// - A delivery its sinks took is acknowledged; one they refused is delivered again after
///   the `RedeliveryPolicy` pause (`NakWithDelay`), and after `maxDeliver` deliveries it is
///   copied to the dead letters — stream `<stream>_DEAD`, subject
///   `sockeye_dead.<stream>.<worker>`, with headers saying where it came from and why — and
///   terminated in the consumer. A message that is not an event line goes there at once.
/// - A worker that dies holding deliveries settles none of them: the server delivers them
///   again after `ackWaitSeconds`, to this worker or another with the same durable name.
/// - Until the connection is up and the consumer bound (the stream may not exist yet), `next`
///   throws and the worker asks again a moment later.
///
/// Threading: all libnats calls run on one serial dispatch queue of this source.
public final class JetStreamWorkerSource: StreamSource {
    public var name: String { settings.name }
    public let settings: WorkerSettings
    private let connection: CNatsConnection
    private let queue: DispatchQueue
    private let policy: RedeliveryPolicy
    private let logger: Logger
    private let state = Mutex(State())
    private let settled: Counter
    private let retried: Counter
    private let deadLettered: Counter
    /// `sockeyed_worker_pending{worker}`: events in the stream this worker has not been given yet.
    private let pendingGauge: Gauge

    private struct State {
        var consumer: CNatsPullConsumer?
        var deadLetterStreamReady = false
        var problem = ProblemMark<String>()
        var processed = 0
        var retries = 0
        var deadLetters = 0
        var pending: UInt64?
        /// Where the answers of the deliveries not settled yet go (by token), for those
        /// someone waits for.
        var answerTo: [UInt64: String] = [:]
    }

    /// The source for `settings` on `cluster`'s servers; connects in the background.
    public init(settings: WorkerSettings, cluster: ClusterSettings, logger: Logger) throws(JetStreamError) {
        self.settings = settings
        self.logger = logger
        connection = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        queue = DispatchQueue(label: "sockeyed.worker.\(settings.name)")
        policy = RedeliveryPolicy(maxDeliver: settings.maxDeliver,
                                  backoff: settings.backoffSeconds.map { .milliseconds(Int64(($0 * 1000).rounded())) })
        settled = Counter(label: "sockeyed_worker_events_total", dimensions: [("worker", settings.name), ("result", "processed")])
        retried = Counter(label: "sockeyed_worker_events_total", dimensions: [("worker", settings.name), ("result", "retried")])
        deadLettered = Counter(label: "sockeyed_worker_events_total", dimensions: [("worker", settings.name), ("result", "dead_letter")])
        pendingGauge = Gauge(label: "sockeyed_worker_pending", dimensions: [("worker", settings.name)])
    }

    public var health: SinkHealth {
        let snapshot = state.withLock { $0 }
        var figures = [("stream", settings.stream), ("processed", String(snapshot.processed))]
        if let pending = snapshot.pending { figures.append(("pending", String(pending))) }
        if snapshot.retries > 0 { figures.append(("retried", String(snapshot.retries))) }
        if snapshot.deadLetters > 0 { figures.append(("dead letters", String(snapshot.deadLetters))) }
        return SinkHealth(kind: "worker", problem: snapshot.problem.problem, since: snapshot.problem.since, figures: figures)
    }

    public func next(max: Int, wait: Duration) async throws(StreamSourceError) -> [StreamDelivery] {
        let milliseconds = Swift.max(1, Self.milliseconds(wait))
        let result: Result<[StreamDelivery], StreamSourceError> = await onQueue { [self] in
            do throws(JetStreamError) {
                let consumer = try boundConsumer()
                let pulled = try consumer.fetch(max: Swift.max(1, max), timeoutMilliseconds: milliseconds)
                clearProblem()
                // An empty fetch: nothing left to deliver.
                let pending = pulled.last?.pending ?? 0
                state.withLock { $0.pending = pending }
                pendingGauge.record(Int64(clamping: pending))
                return .success(deliveries(pulled, from: consumer))
            } catch {
                noteProblem(error.message)
                return .failure(StreamSourceError(error.message))
            }
        }
        return try result.get()
    }

    public func settle(_ outcomes: [(StreamDelivery, StreamSettlement)]) async {
        await onQueue { [self] in
            guard let consumer = state.withLock({ $0.consumer }) else { return }
            for (delivery, settlement) in outcomes {
                let answerTo = state.withLock { $0.answerTo.removeValue(forKey: delivery.token) }
                switch settlement {
                case .answered(let response):
                    // The node waiting for it (if it still does) sends it in Slack's ack.
                    if let answerTo, let failure = connection.publishCore(subject: answerTo, payload: response) {
                        logger.warning("worker \(settings.name): an answer could not be sent: \(failure.message)")
                    }
                    consumer.ack(delivery.token)
                    settled.increment()
                    state.withLock { $0.processed += 1 }
                case .processed:
                    consumer.ack(delivery.token)
                    settled.increment()
                    state.withLock { $0.processed += 1 }
                case .failed(let reason):
                    switch policy.decide(failedAttempt: delivery.attempt) {
                    case .retry(let pause):
                        consumer.nak(delivery.token, delayMilliseconds: Self.milliseconds(pause))
                        retried.increment()
                        state.withLock { $0.retries += 1 }
                    case .deadLetter:
                        deadLetter(delivery.token, attempt: delivery.attempt, reason: reason, on: consumer,
                                   eventID: delivery.record.eventID ?? delivery.record.envelopeID)
                    }
                }
            }
        }
    }

    public func close() async {
        await onQueue { [self] in
            state.withLock { $0.consumer }?.close()
            state.withLock { $0.answerTo = [:] }
            connection.close()
        }
    }

    // MARK: On the queue

    /// The consumer, bound now if it is not yet (and the dead letters' stream made ready).
    private func boundConsumer() throws(JetStreamError) -> CNatsPullConsumer {
        if let consumer = state.withLock({ $0.consumer }) { return consumer }
        guard connection.isConnected else { throw JetStreamError(.unavailable, "not connected to a NATS server") }
        if !state.withLock({ $0.deadLetterStreamReady }) {
            try prepareDeadLetterStream()
            state.withLock { $0.deadLetterStreamReady = true }
        }
        let consumer = try connection.pullConsumer(stream: settings.stream, durable: settings.durable, filter: settings.filter,
                                                   ackWaitSeconds: settings.ackWaitSeconds, maxAckPending: Swift.max(settings.batch * 4, 1024))
        state.withLock { $0.consumer = consumer }
        logger.notice("worker \(settings.name) consumes \(settings.filter) from stream \(settings.stream) as \(settings.durable)")
        return consumer
    }

    /// Creates the dead letters' stream, or brings it to its settings (`StreamPlan`).
    private func prepareDeadLetterStream() throws(JetStreamError) {
        var deadSettings = JetStreamSettings(stream: WorkerSettings.deadLetterStream(of: settings.stream))
        deadSettings.maxAgeSeconds = 30 * 86_400
        var wanted = StreamSpec.wanted(by: deadSettings, serverCount: connection.serverCount)
        wanted.subjects = [WorkerSettings.deadLetterSubjects(of: settings.stream)]
        switch StreamPlan.plan(wanted: wanted, existing: try connection.fetchStream(wanted.name)?.spec) {
        case .keep: break
        case .create(let spec): try connection.createStream(spec)
        case .update(let spec, _): try connection.updateStream(spec)
        case .conflict(let reason): throw JetStreamError(.refused, reason)
        }
    }

    /// The fetched messages as deliveries; one that is not an event line goes to the dead
    /// letters at once.
    private func deliveries(_ pulled: [PulledMessage], from consumer: CNatsPullConsumer) -> [StreamDelivery] {
        var out: [StreamDelivery] = []
        out.reserveCapacity(pulled.count)
        for message in pulled {
            do {
                let record = try EventRecord(line: message.data, acceptsResponsePayload: message.answerTo != nil)
                if let answerTo = message.answerTo, Self.isAnswerSubject(answerTo) {
                    state.withLock { $0.answerTo[message.token] = answerTo }
                }
                out.append(StreamDelivery(record: record, attempt: message.deliveries, token: message.token))
            } catch {
                deadLetter(message.token, attempt: message.deliveries, reason: "not an event line: \(error.description)", on: consumer,
                           eventID: "sequence \(message.streamSequence)")
            }
        }
        return out
    }

    private func deadLetter(_ token: UInt64, attempt: Int, reason: String, on consumer: CNatsPullConsumer, eventID: String) {
        let headers = [("Sockeye-Worker", settings.name), ("Sockeye-Deliveries", String(attempt)), ("Sockeye-Reason", Self.headerValue(reason))]
        do {
            try consumer.deadLetter(token, subject: settings.deadLetterSubject, idPrefix: settings.name, headers: headers)
            deadLettered.increment()
            state.withLock { $0.deadLetters += 1 }
            logger.error("worker \(settings.name): an event went to the dead letters after \(attempt) deliveries: \(reason)",
                         metadata: ["event_id": "\(eventID)"])
        } catch {
            // Kept in the stream: delivered again after the longest pause, and dead-lettered then.
            consumer.nak(token, delayMilliseconds: Self.milliseconds(policy.backoff.last ?? .seconds(1)))
            logger.error("worker \(settings.name): could not store a dead letter (\(error.message)); the event will be delivered again")
        }
    }

    // MARK: Helpers

    private func onQueue<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }

    private func noteProblem(_ text: String) {
        if state.withLock({ $0.problem.set(text) }) { logger.error("worker \(settings.name) cannot read stream \(settings.stream): \(text)") }
    }

    private func clearProblem() {
        if state.withLock({ $0.problem.clear() }) { logger.notice("worker \(settings.name) reads stream \(settings.stream) again") }
    }

    private static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Whether `subject` is an answers' inbox subject (`_INBOX.` and plain subject tokens, no
    /// wildcards): a message's header cannot make the worker publish anywhere else.
    static func isAnswerSubject(_ subject: String) -> Bool {
        subject.hasPrefix("_INBOX.") && subject.utf8.count <= 256 && !subject.hasSuffix(".")
            && subject.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: ">") }
            && !subject.contains("..")
    }

    /// `text` fit for a NATS header value: no control characters, at most 512 bytes.
    static func headerValue(_ text: String) -> String {
        let cleaned = String(String.UnicodeScalarView(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : $0 }))
        guard cleaned.utf8.count > 512 else { return cleaned }
        return String(decoding: cleaned.utf8.prefix(512), as: UTF8.self)
    }
}
