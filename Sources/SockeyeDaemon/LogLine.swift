import Logging

/// One log line's bytes, newline included, in either `LogFormat`.
///
/// A `json` line is one object with, in this order: `time` (RFC 3339 UTC with milliseconds),
/// `level` (swift-log's name: `trace` … `critical`), `logger` (the logger's label,
/// `sockeyed`), `source` (the module that logged: `Sockeye`, `SockeyeDaemon`, …), `message`,
/// and `fields`, the metadata as an object (only when there is some). Fields sit in an object
/// of their own so that none can replace `time`, `level` or `message`. A field given as a
/// string stays a JSON string; one given as an integer, a finite floating-point number or a
/// Boolean (`.stringConvertible`) becomes a JSON number or Boolean; lists and dictionaries
/// become arrays and objects.
///
/// A `text` line reads `TIME LEVEL LABEL: key=value … [SOURCE] message`, as swift-log's stream
/// handler writes it, with control characters escaped.
///
/// With `journalPriority`, the line starts with `<N>`, N the level's syslog priority.
public enum LogLine {
    /// What one line says.
    public struct Content {
        public var level: Logger.Level
        public var label: String
        public var source: String
        public var message: String
        public var fields: Logger.Metadata

        public init(level: Logger.Level, label: String, source: String, message: String, fields: Logger.Metadata) {
            self.level = level
            self.label = label
            self.source = source
            self.message = message
            self.fields = fields
        }
    }

    /// `content` as a line of `format`, stamped `time` (for `json` an RFC 3339 UTC time, for
    /// `text` the local time; see `LogTimestamp`).
    public static func render(_ content: Content, format: LogFormat, time: String, journalPriority: Bool) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(160 + content.message.utf8.count)
        if journalPriority {
            out.append(contentsOf: "<\(JournalStream.priority(content.level))>".utf8)
        }
        switch format {
        case .json: appendJSON(content, time: time, to: &out)
        case .text: appendText(content, time: time, to: &out)
        }
        out.append(UInt8(ascii: "\n"))
        return out
    }

    static func appendJSON(_ content: Content, time: String, to out: inout [UInt8]) {
        out.append(contentsOf: #"{"time":"#.utf8)
        LogEscaping.appendJSONString(time, to: &out)
        out.append(contentsOf: #","level":"#.utf8)
        LogEscaping.appendJSONString(content.level.rawValue, to: &out)
        out.append(contentsOf: #","logger":"#.utf8)
        LogEscaping.appendJSONString(content.label, to: &out)
        out.append(contentsOf: #","source":"#.utf8)
        LogEscaping.appendJSONString(content.source, to: &out)
        out.append(contentsOf: #","message":"#.utf8)
        LogEscaping.appendJSONString(content.message, to: &out)
        if !content.fields.isEmpty {
            out.append(contentsOf: #","fields":"#.utf8)
            appendJSON(.dictionary(content.fields), to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func appendJSON(_ value: Logger.MetadataValue, to out: inout [UInt8]) {
        switch value {
        case .string(let text):
            LogEscaping.appendJSONString(text, to: &out)
        case .stringConvertible(let convertible):
            if let flag = convertible as? Bool {
                out.append(contentsOf: (flag ? "true" : "false").utf8)
            } else if convertible is any BinaryInteger {
                out.append(contentsOf: convertible.description.utf8)
            } else if let number = convertible as? any BinaryFloatingPoint, Double(number).isFinite {
                out.append(contentsOf: Double(number).description.utf8)
            } else {
                LogEscaping.appendJSONString(convertible.description, to: &out)
            }
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                appendJSON(element, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .dictionary(let members):
            out.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                LogEscaping.appendJSONString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                appendJSON(member.value, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func appendText(_ content: Content, time: String, to out: inout [UInt8]) {
        var line = "\(time) \(content.level)"
        if !content.label.isEmpty { line += " " + content.label }
        line += ":"
        for (key, value) in content.fields.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(value)"
        }
        line += " [\(content.source)] \(content.message)"
        out.append(contentsOf: LogEscaping.singleLine(line).utf8)
    }
}
