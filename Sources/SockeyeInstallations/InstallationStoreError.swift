import Foundation
import GRDB

/// Why the installation store cannot open its file or carry out a call, with what the
/// operator should do about it.
///
/// Its text (`description`, `detail`) names the file, the installation id and SQLite's
/// message, never a token: SQLite's messages do not quote values, and the statement's
/// arguments are not made part of it.
public struct InstallationStoreError: Error, Sendable, CustomStringConvertible {
    /// What kind of trouble.
    public enum Kind: String, Sendable {
        /// Another connection (another node, the CLI, a Bolt app) held the write lock longer
        /// than the busy timeout.
        case locked
        /// Not a SQLite database, or a damaged one.
        case corrupt
        /// A SQLite database of another program: another `application_id`, or tables but none
        /// of an installation store's.
        case foreign = "not an installation store"
        /// An installation store this build cannot use: a newer schema version, or slack_sdk
        /// tables without the columns it reads and writes.
        case incompatible
        /// No file at the path (a read-only open never creates one).
        case missing = "no installation store"
        /// The file or its folder cannot be opened or written (permissions, a missing folder,
        /// a write through a read-only store).
        case cannotOpen = "cannot open"
        /// The installation given cannot be stored (no team or enterprise id to key it by).
        case invalid = "invalid installation"
        /// Any other I/O or SQLite failure.
        case failed
    }

    /// What kind of trouble.
    public let kind: Kind
    /// The store's file.
    public let path: String
    /// What went wrong (SQLite's message and code, or what the check found).
    public let detail: String

    /// An error of `kind` on the store at `path`; `detail` must not quote a token.
    public init(_ kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// What to do, in one sentence.
    public var advice: String {
        switch kind {
        case .locked:
            "another process holds the installation store's write lock (find it with `fuser \(path)`); the call may be retried"
        case .corrupt:
            "the file is not a readable SQLite database: move it aside and point the app's installation store at a new file (the apps must then be installed again); sockeyed never replaces or deletes it"
        case .foreign:
            "the path names another program's database: point the app's installation store at a new file (or at a file slack_sdk's SQLite3InstallationStore uses); sockeyed never alters a database it did not create"
        case .incompatible:
            "use a sockeyed at least as new as the one that last wrote the file, or (for slack_sdk tables older than slack_sdk 3.8) let a current slack_sdk or a new file hold the installations"
        case .missing:
            "check the path (the app's installation store in the configuration); sockeyed creates the file when it starts with it"
        case .cannotOpen:
            "check that the folder exists and that this user may read (and, for sockeyed, write) the file"
        case .invalid:
            "an installation needs a team id, or an enterprise id when it is installed for the whole organization"
        case .failed:
            "see the SQLite error"
        }
    }

    /// The file, the kind, the detail and the advice, in one line.
    public var description: String { "installation store \(path): \(kind.rawValue): \(detail); what to do: \(advice)" }

    /// Classifies a failure of SQLite (through GRDB) on the store at `path`. Only SQLite's
    /// message and code are kept: never the statement or its arguments.
    static func classify(_ error: any Error, path: String) -> InstallationStoreError {
        if let error = error as? InstallationStoreError { return error }
        guard let database = error as? DatabaseError else {
            return InstallationStoreError(.failed, path: path, detail: String(describing: type(of: error)))
        }
        let detail = "\(database.message ?? "SQLite error") (SQLite code \(database.extendedResultCode.rawValue))"
        switch database.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return InstallationStoreError(.locked, path: path, detail: detail)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return InstallationStoreError(.corrupt, path: path, detail: detail)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return InstallationStoreError(.cannotOpen, path: path, detail: detail)
        default:
            return InstallationStoreError(.failed, path: path, detail: detail)
        }
    }
}
