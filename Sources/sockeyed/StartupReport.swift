import Foundation
import Logging
import Synchronization

/// What `sockeyed` says itself when it cannot start or stops on an error (`sockeyed: …` on
/// standard error): with `--log-format json` it goes through the logger as a `critical` line,
/// so standard error stays one JSON object per line; otherwise as plain text.
enum StartupReport {
    /// Set by `LoggingOptions.bootstrap`.
    static let json = Atomic<Bool>(false)

    static func say(_ message: String) {
        if json.load(ordering: .relaxed) {
            Logger(label: "sockeyed").critical("\(message)")
        } else {
            FileHandle.standardError.write(Data("sockeyed: \(message)\n".utf8))
        }
    }
}
