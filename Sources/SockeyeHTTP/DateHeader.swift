#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// The `Date` header's value (IMF-fixdate, RFC 9110 §5.6.7), formatted once per second.
enum DateHeader {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    /// Now, as `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func now() -> String {
        var now = time(nil)
        let second = Int(now)
        // Never waits for the lock: a thread that finds it taken formats the date itself.
        if let text = cache.withLockIfAvailable({ $0.second == second ? $0.text : nil }) ?? nil { return text }
        var parts = tm()
        gmtime_r(&now, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        // Fixed English names: the format is not localized.
        let text = "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
        _ = cache.withLockIfAvailable { $0 = (second, text) }
        return text
    }
}
