/// How the daemon writes its log lines on standard error (`--log-format`, `SOCKEYE_LOG_FORMAT`).
///
/// - `text`: `TIME LEVEL LABEL: key=value … [SOURCE] message`, for people;
/// - `json`: one JSON object per line (`LogLine.json`), for log pipelines.
///
/// Either way a line is one line: control characters in a message or a value are escaped.
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

/// What `DaemonLogHandler` needs to know about where it writes, decided once at start.
public struct LogDestination: Sendable {
    /// The line format.
    public var format: LogFormat
    /// Prefix each line with its syslog priority (`<6>` for info…): stderr is the journal.
    public var journalPriorities: Bool

    public init(format: LogFormat, journalPriorities: Bool) {
        self.format = format
        self.journalPriorities = journalPriorities
    }
}
