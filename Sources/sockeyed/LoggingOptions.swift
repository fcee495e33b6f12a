import ArgumentParser
import Foundation
import Logging
import SockeyeDaemon

/// The options of the subcommands that log (`run`, `demo`): the level, the line format, and
/// whether the live status line is written. Each option falls back to its environment
/// variable, then to its default.
struct LoggingOptions: ParsableArguments {
    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default: $SOCKEYE_LOG_LEVEL or info).")
    var logLevel: String?

    @Option(name: .long, help: "text, or json: one JSON object per line (default: $SOCKEYE_LOG_FORMAT or text).")
    var logFormat: String?

    @Flag(name: .long, help: "Write the status line to standard error even when it is not a terminal (not with json logs).")
    var statusLine = false

    /// What `bootstrap` decided.
    struct Setup {
        /// The daemon's logger.
        let logger: Logger
        /// Whether the status line goes to standard error: on a terminal with text logs, or
        /// when `--status-line` asks for it; never between JSON lines.
        let statusLine: Bool
    }

    /// Makes swift-log write through `DaemonLogHandler` to standard error at the chosen level
    /// and format, with journal priorities when standard error is the journal. A level or
    /// format that is not one of the names is a usage error (exit 64), never a silent default.
    func bootstrap(environment: [String: String]) throws -> Setup {
        let level = try Self.choice(logLevel, "--log-level", environment, "SOCKEYE_LOG_LEVEL", default: Logger.Level.info,
                                    names: "trace, debug, info, notice, warning, error or critical")
        let format = try Self.choice(logFormat, "--log-format", environment, "SOCKEYE_LOG_FORMAT", default: LogFormat.text,
                                     names: "text or json")
        if statusLine && format == .json {
            throw ValidationError("--status-line: the status line is plain text and would break the lines of --log-format json")
        }
        let journal = JournalStream.isJournal(descriptor: STDERR_FILENO, environment: environment)
        let destination = LogDestination(format: format, journalPriorities: journal)
        LogTimestamp.prepare()
        LoggingSystem.bootstrap { label in
            var handler = DaemonLogHandler(label: label, destination: destination)
            handler.logLevel = level
            return handler
        }
        StartupReport.json.store(format == .json, ordering: .relaxed)
        let terminal = isatty(STDERR_FILENO) == 1
        return Setup(logger: Logger(label: "sockeyed"), statusLine: statusLine || (terminal && format == .text && !journal))
    }

    /// The value of an option, else of its variable, else `fallback`.
    private static func choice<Value: RawRepresentable<String>>(
        _ option: String?, _ optionName: String, _ environment: [String: String], _ variable: String,
        default fallback: Value, names: String
    ) throws -> Value {
        guard let written = option ?? environment[variable] else { return fallback }
        guard let value = Value(rawValue: written) else {
            throw ValidationError("\(option == nil ? variable : optionName): one of \(names)")
        }
        return value
    }
}
