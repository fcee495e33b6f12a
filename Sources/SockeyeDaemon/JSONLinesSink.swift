import Foundation
import SockeyeSinkKit
import Synchronization

/// Writes each event's normalized line (`EventRecord.line`) to standard output or appends it
/// to a file, one `write` for a whole batch. Apps sharing the sink write whole batches in
/// turn, never interleaved lines. A failed write (a full disk, a closed pipe) refuses the
/// batch, so its events are nacked and Slack redelivers them; in a file, what part of the
/// batch did reach it is cut off again, so the file only ever holds whole lines. `reopen()`
/// (SIGHUP) opens the path again between two batches, so a rotated file gets every line of
/// the batches before it and the new file every line after.
public final class JSONLinesSink: EventSink {
    public let name: String
    private let ownsDescriptor: Bool
    /// The descriptor written, and the failing write's error and when failures began (nil
    /// while writes succeed): one lock, so a reopen falls between two batches.
    private let lock: Mutex<(descriptor: Int32, failing: (problem: String, since: Date)?)>
    private let kind: String
    /// The file written (nil for standard output).
    private let path: String?
    /// Lines written so far.
    private let written = Atomic<Int>(0)

    /// A sink writing to standard output.
    public init(standardOutputNamed name: String) {
        self.name = name
        lock = Mutex((STDOUT_FILENO, nil))
        ownsDescriptor = false
        kind = "stdout"
        path = nil
    }

    /// A sink appending to `path` (created with mode 0600 if missing: events carry message
    /// text and user ids, for the daemon's user only).
    public init(name: String, appendingTo path: String) throws(SinkError) {
        self.name = name
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard opened >= 0 else { throw SinkError("sink \(name): cannot open \(path): \(String(cString: strerror(errno)))") }
        lock = Mutex((opened, nil))
        ownsDescriptor = true
        kind = "file"
        self.path = path
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(records.reduce(0) { $0 + $1.line.count + 1 })
        for record in records {
            buffer.append(contentsOf: record.line)
            buffer.append(0x0A)
        }
        let failure: String? = lock.withLock { state in
            let descriptor = state.descriptor
            // Where the batch starts in a file (-1 for a pipe or terminal, which cannot be cut).
            let start = path == nil ? -1 : lseek(descriptor, 0, SEEK_END)
            var failure: String? = buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return String(cString: strerror(errno))
                    }
                    if written == 0 { return "the write made no progress" }
                    offset += written
                }
                return nil
            }
            if let problem = failure, start >= 0 {
                // A short write leaves part of a line, and the next batch would be glued to it:
                // the batch is refused whole, so none of it may stay.
                if ftruncate(descriptor, start) != 0 {
                    failure = "\(problem); the partial batch could not be removed: \(String(cString: strerror(errno)))"
                }
            }
            if failure == nil { written.add(records.count, ordering: .relaxed) }
            if let failure {
                if state.failing == nil { state.failing = (failure, Date()) } else { state.failing?.problem = failure }
            } else {
                state.failing = nil
            }
            return failure
        }
        guard let failure else { return .accepted }
        // On standard output part of the batch may have gone out: its events are nacked and
        // come back, so a reader de-duplicates by event_id (it is in every line).
        return .refusedAll(records.count, "\(name): write failed: \(failure)")
    }

    public var health: SinkHealth {
        let failing = lock.withLock { $0.failing }
        var figures = [("lines", String(written.load(ordering: .relaxed)))]
        if let path { figures.append(("file", path)) }
        return SinkHealth(kind: kind, problem: failing.map { "write failed: \($0.problem)" }, since: failing?.since, figures: figures)
    }

    public func close() async {
        if ownsDescriptor { _ = Glibc.close(lock.withLock { $0.descriptor }) }
    }

    /// Opens `path` again (created 0600 if the rotation moved it away) and writes there from
    /// the next batch on; the old descriptor is closed once no batch uses it. When the path
    /// cannot be opened, the old file is kept and the reason returned.
    public func reopen() async -> String? {
        guard let path, ownsDescriptor else { return nil }
        let opened = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard opened >= 0 else { return "sink \(name): cannot reopen \(path): \(String(cString: strerror(errno))); still writing to the old file" }
        let old = lock.withLock { state in
            let old = state.descriptor
            state.descriptor = opened
            return old
        }
        _ = Glibc.close(old)
        return nil
    }
}

/// A sink that cannot start.
public struct SinkError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
