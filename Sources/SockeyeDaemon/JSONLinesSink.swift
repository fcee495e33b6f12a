import Foundation
import Synchronization

/// Writes each event's normalized line (`EventRecord.line`) to standard output or appends it
/// to a file, one `write` for a whole batch. Apps sharing the sink write whole batches in
/// turn, never interleaved lines. A failed write (a full disk, a closed pipe) refuses the
/// batch, so its events are nacked and Slack redelivers them.
public final class JSONLinesSink: EventSink {
    public let name: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let lock = Mutex(())

    /// A sink writing to standard output.
    public init(standardOutputNamed name: String) {
        self.name = name
        descriptor = STDOUT_FILENO
        ownsDescriptor = false
    }

    /// A sink appending to `path` (created with mode 0644 if missing).
    public init(name: String, appendingTo path: String) throws(SinkError) {
        self.name = name
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard opened >= 0 else { throw SinkError("sink \(name): cannot open \(path): \(String(cString: strerror(errno)))") }
        descriptor = opened
        ownsDescriptor = true
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(records.reduce(0) { $0 + $1.line.count + 1 })
        for record in records {
            buffer.append(contentsOf: record.line)
            buffer.append(0x0A)
        }
        let failure: String? = lock.withLock { _ in
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return String(cString: strerror(errno))
                    }
                    offset += written
                }
                return nil
            }
        }
        guard let failure else { return .accepted }
        // Part of the batch may be on disk: its events are nacked anyway and come back, so
        // a reader de-duplicates by event_id (it is in every line).
        return .refusedAll(records.count, "\(name): write failed: \(failure)")
    }

    public func close() async {
        if ownsDescriptor { _ = Glibc.close(descriptor) }
    }
}

/// A sink that cannot start.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
