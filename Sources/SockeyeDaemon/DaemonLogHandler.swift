import Logging

/// The daemon's swift-log handler: each line in the `LogDestination`'s format (`LogLine`),
/// with its journal priority when standard error is the journal, written whole to a
/// `LogOutput`. Metadata is merged as swift-log's stream handler merges it: the logger's own,
/// then the metadata provider's, then the call's; an error given to the call adds
/// `error.message` and `error.type`.
public struct DaemonLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    private let label: String
    private let destination: LogDestination
    private let output: LogOutput

    /// A handler for the logger labelled `label`, writing to `output` (standard error by default).
    public init(label: String, destination: LogDestination, output: LogOutput = .standardError,
                metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.destination = destination
        self.output = output
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            fields.merge(provided) { _, new in new }
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            fields.merge(explicit) { _, new in new }
        }
        if let error = event.error {
            fields["error.message"] = .string("\(error)")
            fields["error.type"] = .string(String(reflecting: type(of: error)))
        }
        let content = LogLine.Content(level: event.level, label: label, source: event.source,
                                      message: event.message.description, fields: fields)
        let time = destination.format == .json ? LogTimestamp.utcMilliseconds() : LogTimestamp.local()
        output.write(LogLine.render(content, format: destination.format, time: time,
                                    journalPriority: destination.journalPriorities))
    }
}
