/// One event as the spool stores it: a row of the `events` table (schema: `docs/spool.md`).
public struct SpoolRow: Sendable, Equatable {
    /// The row's sequence number (`seq`): increases with every insert and is never reused,
    /// not even after a purge. Zero for a row not yet stored.
    public var seq: Int64
    public var app: String
    public var envelopeType: String
    public var envelopeID: String
    public var eventType: String?
    public var team: String?
    public var channel: String?
    public var user: String?
    public var eventID: String?
    public var retryAttempt: Int
    public var retryReason: String?
    /// Milliseconds since 1970 (UTC) when the daemon took the event.
    public var receivedAtMilliseconds: Int64
    /// The normalized JSON line (`docs/event-line.schema.json`), without a newline.
    public var line: String

    public init(seq: Int64 = 0, app: String, envelopeType: String, envelopeID: String, eventType: String? = nil,
                team: String? = nil, channel: String? = nil, user: String? = nil, eventID: String? = nil,
                retryAttempt: Int = 0, retryReason: String? = nil, receivedAtMilliseconds: Int64, line: String) {
        self.seq = seq
        self.app = app
        self.envelopeType = envelopeType
        self.envelopeID = envelopeID
        self.eventType = eventType
        self.team = team
        self.channel = channel
        self.user = user
        self.eventID = eventID
        self.retryAttempt = retryAttempt
        self.retryReason = retryReason
        self.receivedAtMilliseconds = receivedAtMilliseconds
        self.line = line
    }
}
