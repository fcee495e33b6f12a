import Glibc
import Logging

/// Whether a file descriptor is connected to systemd's journal, and the syslog priorities the
/// journal reads at the start of a line (sd-daemon(3): a line that starts with `<N>` is logged
/// at priority N, so `journalctl -p warning` finds warnings).
public enum JournalStream {
    /// True when `JOURNAL_STREAM` (systemd sets it to `DEVICE:INODE` of the stream it connected
    /// to standard output and error) names the file `descriptor` refers to. A child that
    /// inherited the variable but writes somewhere else (a pipe, a file) is not the journal.
    public static func isJournal(descriptor: Int32 = 2, environment: [String: String]) -> Bool {
        guard let value = environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }

    /// The syslog priority of a swift-log level: trace and debug 7, info 6, notice 5, warning 4,
    /// error 3, critical 2.
    public static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}
