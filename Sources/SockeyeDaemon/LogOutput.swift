import Glibc
import Synchronization

/// A file descriptor log lines are written to, one whole line at a time: a lock keeps lines
/// of different threads from interleaving (a write(2) to a pipe is atomic only up to 4 KiB,
/// and a short write is finished before the next line starts).
public final class LogOutput: Sendable {
    /// The process's standard error; every handler writing there shares this one.
    public static let standardError = LogOutput(descriptor: STDERR_FILENO)

    private let descriptor: Int32
    private let lock = Mutex(())

    /// Writes to `descriptor`, which the caller keeps open for as long as lines are logged.
    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Writes `line` whole. Interrupted writes are retried; a failed write (a closed pipe, a
    /// full disk) drops the rest of the line: logging must never stop the daemon.
    public func write(_ line: [UInt8]) {
        lock.withLock { _ in
            line.withUnsafeBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written > 0 {
                        offset += written
                    } else if written < 0 && errno == EINTR {
                        continue
                    } else {
                        return
                    }
                }
            }
        }
    }
}
