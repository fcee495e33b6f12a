import SockeyeSinkKit
/// The environment a command sink's program runs with: never the daemon's own, which holds
/// app and bot tokens, signing secrets and proxy passwords.
///
/// It has `PATH`, `HOME`, `LANG` and `TZ` from the daemon (those that are set), what the
/// sink's `env:` passes explicitly, and the event's own metadata: `SOCKEYE_APP`,
/// `SOCKEYE_DELIVERY`, `SOCKEYE_ENVELOPE_TYPE`, `SOCKEYE_ENVELOPE_ID`, `SOCKEYE_EVENT_TYPE`,
/// `SOCKEYE_EVENT_ID`, `SOCKEYE_TEAM_ID`, `SOCKEYE_CHANNEL_ID`, `SOCKEYE_USER_ID`,
/// `SOCKEYE_INSTALLATION_ID` (those the event has) and `SOCKEYE_RETRY_ATTEMPT`. The event's
/// line on standard input carries the rest. The one secret a program may get is the bot token
/// of the event's installation, `SLACK_BOT_TOKEN`, when its sink opted in (`pass_bot_token`).
public enum ChildEnvironment {
    /// The daemon's variables a program may see.
    public static let passedThrough = ["PATH", "HOME", "LANG", "TZ"]
    /// The longest metadata value passed (ids and types are short; anything longer is left
    /// to the event's line).
    static let maxValueBytes = 1024

    /// The environment for `record`'s program: `inherited` filtered to `passedThrough`,
    /// then `explicit` (the sink's `env:`), then the event's metadata.
    public static func make(inherited: [String: String], explicit: [String: String], record: EventRecord,
                            botToken: String? = nil) -> [String: String] {
        var out: [String: String] = [:]
        for name in passedThrough { if let value = inherited[name] { out[name] = value } }
        for (name, value) in explicit { out[name] = value }
        let metadata: [(String, String?)] = [
            ("SOCKEYE_APP", record.app), ("SOCKEYE_DELIVERY", record.delivery.rawValue),
            ("SOCKEYE_ENVELOPE_TYPE", record.envelopeType), ("SOCKEYE_ENVELOPE_ID", record.envelopeID),
            ("SOCKEYE_EVENT_TYPE", record.eventType), ("SOCKEYE_EVENT_ID", record.eventID), ("SOCKEYE_TEAM_ID", record.team),
            ("SOCKEYE_CHANNEL_ID", record.channel), ("SOCKEYE_USER_ID", record.user),
            ("SOCKEYE_INSTALLATION_ID", record.authorization?.installationID),
            ("SOCKEYE_RETRY_ATTEMPT", String(record.retryAttempt)),
        ]
        for (name, value) in metadata {
            // Values from Slack: a NUL cannot be in an environment, and a long one is not metadata.
            guard let value, value.utf8.count <= maxValueBytes, !value.utf8.contains(0) else { continue }
            out[name] = value
        }
        if let botToken, !botToken.utf8.contains(0) { out["SLACK_BOT_TOKEN"] = botToken }
        return out
    }

    /// Whether `name` can be an environment variable's name: a letter or `_`, then letters,
    /// digits and `_` (ASCII).
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == 0x5F || (0x41...0x5A).contains(first) || (0x61...0x7A).contains(first) else {
            return false
        }
        return name.utf8.allSatisfy { $0 == 0x5F || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
    }
}
