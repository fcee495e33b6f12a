import Glibc

/// The times log lines carry, read from the wall clock when the line is written.
public enum LogTimestamp {
    /// RFC 3339 in UTC with milliseconds (`2026-12-06T03:04:31.042Z`), for `json` lines.
    public static func utcMilliseconds() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return utcMilliseconds(seconds: Int(now.tv_sec), nanoseconds: Int(now.tv_nsec))
    }

    /// `seconds` since the epoch plus `nanoseconds` (truncated to milliseconds) as RFC 3339 UTC.
    public static func utcMilliseconds(seconds: Int, nanoseconds: Int) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "1970-01-01T00:00:00.000Z" }
        var text = ""
        text.reserveCapacity(24)
        text += digits(Int(parts.tm_year) + 1900, 4) + "-" + digits(Int(parts.tm_mon) + 1, 2) + "-" + digits(Int(parts.tm_mday), 2)
        text += "T" + digits(Int(parts.tm_hour), 2) + ":" + digits(Int(parts.tm_min), 2) + ":" + digits(Int(parts.tm_sec), 2)
        text += "." + digits(nanoseconds / 1_000_000, 3) + "Z"
        return text
    }

    /// Local time with its offset (`2026-12-06T03:04:31+0000`), for `text` lines: what
    /// swift-log's stream handler writes, so a text line reads as it did.
    public static func local() -> String {
        var time = time(nil)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads the time zone (`TZ`, /etc/localtime) once, before `local()` is used from many threads.
    public static func prepare() { tzset() }

    private static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
