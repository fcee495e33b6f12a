import Foundation
import Synchronization

/// Wall-clock formatting without Foundation's formatters on the hot path.
public enum Timestamp {
    /// Milliseconds since 1970, now.
    public static func nowMilliseconds() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1000 + Int64(spec.tv_nsec) / 1_000_000
    }

    /// `2026-11-30T04:24:15.123Z`.
    public static func iso8601(milliseconds: Int64) -> String {
        let second = milliseconds / 1000
        let millis = Int(milliseconds % 1000)
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        // The date and time up to the second change once a second: formatted once for it.
        // Never waits for the lock: a thread that finds it taken formats the prefix itself.
        if let prefix = secondPrefix.withLockIfAvailable({ $0.second == second ? $0.text : nil }) ?? nil {
            return prefix + fraction + "Z"
        }
        var seconds = time_t(second)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let prefix = "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))."
        _ = secondPrefix.withLockIfAvailable { $0 = (second, prefix) }
        return prefix + fraction + "Z"
    }

    /// The last second `iso8601` formatted, and its text up to the fraction.
    private static let secondPrefix = Mutex<(second: Int64, text: String)>((-1, ""))
}
