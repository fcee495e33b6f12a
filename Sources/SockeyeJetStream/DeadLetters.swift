import Foundation
import SockeyeSinkKit

/// One event in the dead letters of a stream's workers.
public struct DeadLetter: Sendable {
    /// Its sequence in the dead letters' stream (what `replay` and `sockeyed dead-letters` name).
    public var sequence: UInt64
    public var worker: String?
    public var deliveries: Int?
    public var reason: String?
    /// The subject it had in the stream (where a replay publishes it again).
    public var subject: String?
    /// The event's line, as the stream held it.
    public var line: [UInt8]
}

/// The dead letters of the workers on one stream (`<stream>_DEAD`): listing them, and replaying
/// one into the stream — published again to its subject under a new message id (the old one
/// is inside the duplicate window), then deleted from the dead letters. Every consumer of that
/// subject gets it again; a sink that keeps one row per event id (the spool) keeps one.
///
/// Threading: blocking calls (round trips to the servers); for a command-line tool, or call
/// off Swift's cooperative pool.
public final class DeadLetterStore: Sendable {
    public let stream: String
    private let connection: CNatsConnection

    static let headerNames = ["Sockeye-Worker", "Sockeye-Deliveries", "Sockeye-Reason", "Sockeye-Subject"]

    /// Connects to `cluster`, waiting up to its request timeout for a server.
    public init(stream: String, cluster: ClusterSettings) throws(JetStreamError) {
        self.stream = stream
        connection = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        guard connection.waitUntilConnected(seconds: cluster.requestTimeoutSeconds) else {
            connection.close()
            throw JetStreamError(.unavailable, "no NATS server answered within \(cluster.requestTimeoutSeconds) s")
        }
    }

    /// Up to `limit` dead letters, oldest first, of `worker` (all workers when nil).
    public func list(worker: String? = nil, limit: Int = 100) throws(JetStreamError) -> [DeadLetter] {
        let name = WorkerSettings.deadLetterStream(of: stream)
        guard let snapshot = try connection.fetchStream(name), snapshot.messages > 0 else { return [] }
        var letters: [DeadLetter] = []
        var sequence = snapshot.firstSequence
        while sequence <= snapshot.lastSequence, letters.count < max(0, limit) {
            defer { sequence += 1 }
            guard let letter = try self.letter(at: sequence) else { continue }
            if worker == nil || letter.worker == worker { letters.append(letter) }
        }
        return letters
    }

    /// The dead letter at `sequence`, or nil when there is none.
    public func letter(at sequence: UInt64) throws(JetStreamError) -> DeadLetter? {
        guard let found = try connection.message(of: WorkerSettings.deadLetterStream(of: stream), at: sequence, headers: Self.headerNames)
        else { return nil }
        return DeadLetter(sequence: sequence, worker: found.headers["Sockeye-Worker"],
                          deliveries: found.headers["Sockeye-Deliveries"].flatMap { Int($0) },
                          reason: found.headers["Sockeye-Reason"], subject: found.headers["Sockeye-Subject"], line: found.data)
    }

    /// Publishes `letter` to the stream again and deletes it from the dead letters; returns the
    /// event's new sequence in the stream.
    @discardableResult
    public func replay(_ letter: DeadLetter, subjectPrefix: String) throws(JetStreamError) -> UInt64 {
        let record: EventRecord
        do {
            record = try EventRecord(line: letter.line)
        } catch {
            throw JetStreamError(.refused, "dead letter \(letter.sequence) is not an event line (\(error.description)): it cannot be replayed")
        }
        let subject = letter.subject ?? JetStreamNaming.subject(prefix: subjectPrefix, record: record)
        let id = JetStreamNaming.messageID(record) + ":replay:\(letter.sequence)"
        let stored = try connection.publishAndWait(subject: subject, messageID: id, payload: letter.line)
        try connection.deleteMessage(of: WorkerSettings.deadLetterStream(of: stream), at: letter.sequence)
        return stored.sequence
    }

    public func close() {
        connection.close()
    }
}
