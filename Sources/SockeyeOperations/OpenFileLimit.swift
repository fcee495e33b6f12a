#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files.
public enum OpenFileLimit {
    /// Raises the soft limit on open files to the hard limit, so a flood of connections meets
    /// the listeners' `max_connections` (refused cleanly) long before the process runs out
    /// of descriptors. Returns the soft limit in force afterwards (nil when it cannot be read).
    @discardableResult
    public static func raiseToHardLimit() -> UInt64? {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return nil }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limits = raised }
        }
        return UInt64(limits.rlim_cur)
    }
}
