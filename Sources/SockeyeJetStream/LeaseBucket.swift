import CNats
import Foundation

/// The key-value bucket the cluster's leases live in, as JetStream keeps it: the stream
/// `KV_<bucket>` with one subject per key (`$KV.<bucket>.<key>`), a key's revision being the
/// stream sequence of its last message. Every write is a compare-and-swap
/// (`Nats-Expected-Last-Subject-Sequence`), so a conflict comes back as JetStream error 10071
/// and is told apart from any other failure; per-key expiry is not used (NATS 2.9 has none,
/// and libnats 3.4 turns the bucket's TTL into the stream's max age).
///
/// Threading: blocking calls (one round trip each); call them off Swift's cooperative pool.
package final class LeaseBucket: Sendable {
    /// A key's value and revision; a deleted key is `nil` with the revision of its delete marker.
    package struct Read: Sendable, Equatable {
        package var value: String?
        package var revision: UInt64
    }

    /// Why a write failed.
    package enum WriteError: Error, Equatable {
        /// The key was not at the revision expected: another node wrote it.
        case conflict
        case failed(JetStreamError)
    }

    package let bucket: String
    private let connection: CNatsConnection
    private var stream: String { "KV_\(bucket)" }

    /// The bucket (created when missing, one value kept per key, file storage, `replicas`).
    package init(connection: CNatsConnection, bucket: String, replicas: Int) throws(JetStreamError) {
        self.connection = connection
        self.bucket = bucket
        let wanted = StreamSpec(name: "KV_\(bucket)", subjects: ["$KV.\(bucket).>"], maxAgeNanoseconds: 0, maxBytes: -1,
                                duplicateWindowNanoseconds: 120_000_000_000, replicas: replicas, fileStorage: true)
        if try connection.fetchStream(wanted.name) == nil {
            try connection.createKeyValueStream(wanted)
        }
    }

    /// The key's last write; nil when it was never written.
    package func read(_ key: String) throws(JetStreamError) -> Read? {
        try connection.lastMessage(of: stream, subject: "$KV.\(bucket).\(key)")
    }

    /// Writes `value` if the key is at `revision` (0: never written); the new revision.
    package func write(_ key: String, value: String, expecting revision: UInt64) throws(WriteError) -> UInt64 {
        try connection.compareAndSwap(subject: "$KV.\(bucket).\(key)", payload: Array(value.utf8), expecting: revision, delete: false)
    }

    /// Deletes the key if it is at `revision`; the delete marker's revision.
    package func delete(_ key: String, expecting revision: UInt64) throws(WriteError) -> UInt64 {
        try connection.compareAndSwap(subject: "$KV.\(bucket).\(key)", payload: [], expecting: revision, delete: true)
    }

    /// Creates the key if it has no value now (never written, or deleted at the revision read).
    package func create(_ key: String, value: String) throws(WriteError) -> UInt64 {
        let current: Read?
        do {
            current = try read(key)
        } catch {
            throw .failed(error)
        }
        if let current, current.value != nil { throw .conflict }
        return try write(key, value: value, expecting: current?.revision ?? 0)
    }
}

extension CNatsConnection {
    /// Creates the stream behind a key-value bucket (`createStream` plus what KV readers
    /// expect: one message kept per subject, rollups allowed, direct gets).
    func createKeyValueStream(_ spec: StreamSpec) throws(JetStreamError) {
        try createStream(spec) { config in
            config.pointee.MaxMsgsPerSubject = 1
            config.pointee.AllowRollup = true
            config.pointee.AllowDirect = true
        }
    }

    /// The last message on `subject` of `stream` as a key's read; nil when there is none.
    func lastMessage(of stream: String, subject: String) throws(JetStreamError) -> LeaseBucket.Read? {
        var messagePointer: OpaquePointer?
        var code = jsErrCode(0)
        let status = js_GetLastMsg(&messagePointer, jetStreamContext, stream, subject, nil, &code)
        if status == NATS_NOT_FOUND || code == JSNoMessageFoundErr { return nil }
        guard status == NATS_OK, let message = messagePointer else { throw Self.failure(status, code, doing: "reading \(subject)") }
        defer { natsMsg_Destroy(message) }
        let revision = natsMsg_GetSequence(message)
        var operation: UnsafePointer<CChar>?
        if natsMsgHeader_Get(message, "KV-Operation", &operation) == NATS_OK, operation != nil {
            return LeaseBucket.Read(value: nil, revision: revision)
        }
        return LeaseBucket.Read(value: String(decoding: Self.data(of: message), as: UTF8.self), revision: revision)
    }

    /// Publishes to `subject` only if its last message is at `revision` (0: none), as a delete
    /// marker when `delete`; the new message's sequence.
    func compareAndSwap(subject: String, payload: [UInt8], expecting revision: UInt64, delete: Bool) throws(LeaseBucket.WriteError) -> UInt64 {
        var messagePointer: OpaquePointer?
        var status = payload.withUnsafeBytes { bytes in
            natsMsg_Create(&messagePointer, subject, nil, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(bytes.count))
        }
        guard status == NATS_OK, let message = messagePointer else {
            throw .failed(Self.failure(status, jsErrCode(0), doing: "writing \(subject)"))
        }
        defer { natsMsg_Destroy(message) }
        // The header, not jsPubOptions.ExpectLastSubjectSeq, whose 0 means "no check".
        status = natsMsgHeader_Set(message, "Nats-Expected-Last-Subject-Sequence", String(revision))
        if status == NATS_OK, delete { status = natsMsgHeader_Set(message, "KV-Operation", "DEL") }
        var ack: UnsafeMutablePointer<jsPubAck>?
        var code = jsErrCode(0)
        if status == NATS_OK { status = js_PublishMsg(&ack, jetStreamContext, message, nil, &code) }
        if code == JSStreamWrongLastSequenceErr { throw .conflict }
        guard status == NATS_OK, let ack else { throw .failed(Self.failure(status, code, doing: "writing \(subject)")) }
        defer { jsPubAck_Destroy(ack) }
        return ack.pointee.Sequence
    }
}
