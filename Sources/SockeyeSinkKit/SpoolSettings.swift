/// A spool sink's settings.
public struct SpoolSettings: Sendable, Equatable {
    /// The SQLite database file (created if missing; WAL mode).
    public var path: String
    /// Events older than this are deleted (retention by age); `nil` keeps them.
    public var maxAgeSeconds: Double?
    /// The oldest events are deleted while the database is larger than this; `nil`: no limit.
    public var maxBytes: Int64?

    public init(path: String, maxAgeSeconds: Double? = nil, maxBytes: Int64? = nil) {
        self.path = path
        self.maxAgeSeconds = maxAgeSeconds
        self.maxBytes = maxBytes
    }
}
