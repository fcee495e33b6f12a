import SockeyeSinkKit

/// A stream's settings as plain values (durations in nanoseconds, as JetStream keeps them).
package struct StreamSpec: Sendable, Equatable {
    package var name: String
    package var subjects: [String]
    package var maxAgeNanoseconds: Int64
    /// -1: no limit.
    package var maxBytes: Int64
    package var duplicateWindowNanoseconds: Int64
    package var replicas: Int
    package var fileStorage: Bool

    package init(name: String, subjects: [String], maxAgeNanoseconds: Int64, maxBytes: Int64, duplicateWindowNanoseconds: Int64,
                 replicas: Int, fileStorage: Bool) {
        self.name = name
        self.subjects = subjects
        self.maxAgeNanoseconds = maxAgeNanoseconds
        self.maxBytes = maxBytes
        self.duplicateWindowNanoseconds = duplicateWindowNanoseconds
        self.replicas = replicas
        self.fileStorage = fileStorage
    }
}

extension StreamSpec {
    /// The stream `settings` ask for on a cluster of `serverCount` servers: subjects
    /// `<prefix>.>`, file storage, and unless set, 3 replicas from three servers up, else 1.
    package static func wanted(by settings: JetStreamSettings, serverCount: Int) -> StreamSpec {
        StreamSpec(
            name: settings.stream, subjects: [settings.subjectPrefix + ".>"],
            maxAgeNanoseconds: Int64((settings.maxAgeSeconds * 1e9).rounded()), maxBytes: settings.maxBytes ?? -1,
            duplicateWindowNanoseconds: Int64((settings.duplicateWindowSeconds * 1e9).rounded()),
            replicas: settings.replicas ?? (serverCount >= 3 ? 3 : 1), fileStorage: true)
    }
}

/// A stream as the server reports it now: its settings and what it holds.
package struct StreamSnapshot: Sendable, Equatable {
    package var spec: StreamSpec
    package var messages: UInt64
    package var bytes: UInt64
    package var firstSequence: UInt64
    package var lastSequence: UInt64
    /// The server leading the stream (nil on a single server).
    package var leader: String?

    package init(spec: StreamSpec, messages: UInt64, bytes: UInt64, firstSequence: UInt64, lastSequence: UInt64, leader: String?) {
        self.spec = spec
        self.messages = messages
        self.bytes = bytes
        self.firstSequence = firstSequence
        self.lastSequence = lastSequence
        self.leader = leader
    }
}

/// What to do so that the stream matches the configuration: decided from the wanted and the
/// existing settings alone (sans-IO), carried out by `JetStreamSink`.
///
/// The configuration is the truth for what it sets: retention by age and size, the duplicate
/// window, the replicas, and the subject `<prefix>.>` (added to the stream's subjects, none of
/// which is removed). The storage type cannot change on a live stream: a memory stream where
/// the configuration wants the durable file stream is a conflict the operator settles.
package enum StreamPlan: Sendable, Equatable {
    /// No such stream: create it.
    case create(StreamSpec)
    /// The stream is as configured.
    case keep
    /// Update the stream to this, which differs from it in `changes` (names of settings, for the log).
    case update(StreamSpec, changes: [String])
    /// The stream cannot be made to match; the reason says what to do.
    case conflict(String)

    /// The plan that brings `existing` (nil: no stream) to `wanted`.
    package static func plan(wanted: StreamSpec, existing: StreamSpec?) -> StreamPlan {
        guard let existing else { return .create(wanted) }
        if existing.fileStorage != wanted.fileStorage {
            return .conflict("stream \(existing.name) keeps its messages in memory, and a memory stream loses them when its servers restart: "
                             + "delete it (nats stream rm \(existing.name)) or name another stream in the sink's `stream:`")
        }
        var merged = existing
        var changes: [String] = []
        for subject in wanted.subjects where !existing.subjects.contains(subject) {
            merged.subjects.append(subject)
            changes.append("subjects")
        }
        if existing.maxAgeNanoseconds != wanted.maxAgeNanoseconds {
            merged.maxAgeNanoseconds = wanted.maxAgeNanoseconds
            changes.append("max_age")
        }
        if existing.maxBytes != wanted.maxBytes {
            merged.maxBytes = wanted.maxBytes
            changes.append("max_size")
        }
        if existing.duplicateWindowNanoseconds != wanted.duplicateWindowNanoseconds {
            merged.duplicateWindowNanoseconds = wanted.duplicateWindowNanoseconds
            changes.append("duplicate_window")
        }
        if existing.replicas != wanted.replicas {
            merged.replicas = wanted.replicas
            changes.append("replicas")
        }
        return changes.isEmpty ? .keep : .update(merged, changes: changes)
    }
}
