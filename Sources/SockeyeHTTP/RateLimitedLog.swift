/// Decides which occurrences of a repeated event are worth a log line: at most one per key
/// per `interval`, and that line says how many were left out since the previous one.
/// Sans-IO: the caller passes the time (seconds on any monotonic clock) and writes the line.
/// Used for refused requests, which a stranger can cause as fast as they can send them.
public struct RateLimitedLog: Sendable {
    /// One line to write: the occurrences suppressed since the key's previous line.
    public struct Line: Sendable, Equatable {
        public let suppressed: Int
        public init(suppressed: Int) { self.suppressed = suppressed }
    }

    private struct Entry: Sendable {
        var lastLine: Double
        var suppressed: Int
    }

    /// The least time between two lines of one key, in seconds.
    public let interval: Double
    /// Keys remembered at most (the oldest is forgotten beyond it; keys are few and fixed in
    /// practice: listener and reason).
    public let maxKeys: Int
    private var entries: [String: Entry] = [:]

    public init(interval: Double, maxKeys: Int = 256) {
        self.interval = interval
        self.maxKeys = max(1, maxKeys)
    }

    /// An occurrence of `key` at `now`: the line to write, or nil when it is suppressed.
    public mutating func occurred(_ key: String, at now: Double) -> Line? {
        if var entry = entries[key] {
            guard now - entry.lastLine >= interval else {
                entry.suppressed += entry.suppressed < Int.max ? 1 : 0
                entries[key] = entry
                return nil
            }
            entries[key] = Entry(lastLine: now, suppressed: 0)
            return Line(suppressed: entry.suppressed)
        }
        if entries.count >= maxKeys, let oldest = entries.min(by: { $0.value.lastLine < $1.value.lastLine })?.key {
            entries.removeValue(forKey: oldest)
        }
        entries[key] = Entry(lastLine: now, suppressed: 0)
        return Line(suppressed: 0)
    }
}
