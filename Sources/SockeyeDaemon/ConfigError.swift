/// A mistake in the daemon's configuration: where it is (file, line, column), which key, and
/// what is wrong, on one line — e.g. `sockeyed.yaml:12:17: apps[0].pool_size: expected an
/// integer from 1 to 10, got "lots"`. `sockeyed` prints it and exits with status 2.
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    /// The file (or `environment` for a setting from the environment).
    public let source: String
    /// 1-based line and column of the offending value, when known.
    public let line: Int?
    public let column: Int?
    /// The key's path, e.g. `apps[0].routes[1].sinks`.
    public let key: String
    /// What is wrong and, where it helps, what to write instead.
    public let message: String

    public init(source: String, line: Int? = nil, column: Int? = nil, key: String, message: String) {
        self.source = source
        self.line = line
        self.column = column
        self.key = key
        self.message = message
    }

    public var description: String {
        var place = source
        if let line { place += ":\(line)" }
        if let column { place += ":\(column)" }
        return key.isEmpty ? "\(place): \(message)" : "\(place): \(key): \(message)"
    }
}
