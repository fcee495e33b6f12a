import Foundation
import GRDB

/// Why the spool cannot take or give events, with what the operator should do about it.
public struct SpoolError: Error, Sendable, CustomStringConvertible {
    /// What kind of trouble: decides whether the sink waits for it to pass (`diskFull`,
    /// `locked`) and what the message tells the operator.
    public enum Kind: String, Sendable {
        /// No space left (SQLITE_FULL, ENOSPC, EFBIG).
        case diskFull = "disk full"
        /// Another connection holds the write lock longer than the busy timeout.
        case locked
        /// Not a SQLite database, or a damaged one.
        case corrupt
        /// A SQLite database, but not a spool (or a newer spool version).
        case notASpool = "not a spool"
        /// No spool file at the path (reading commands never create one).
        case missing = "no spool file"
        /// The file or its folder cannot be opened (permissions, a missing folder).
        case cannotOpen = "cannot open"
        /// Any other I/O or SQLite failure.
        case failed
    }

    public let kind: Kind
    public let path: String
    /// The underlying failure (SQLite's message and code).
    public let detail: String

    public init(_ kind: Kind, path: String, detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// What to do, in one sentence.
    public var advice: String {
        switch kind {
        case .diskFull:
            "free space on the file system holding \(path) (or lower max_size); sockeyed keeps refusing (nacking) events, so Slack redelivers them, and resumes by itself once a write succeeds"
        case .locked:
            "another process holds the spool's write lock (a consumer in a long write transaction, or a tool that switched the file out of WAL mode): find it with `fuser \(path)` and end its transaction"
        case .corrupt:
            "the file is not a readable spool: move it aside (keep it: `sqlite3 \(path) .recover` may save its events) and start again; sockeyed never replaces or deletes it"
        case .notASpool:
            "the path names another program's SQLite database: point the sink's path at a new file; sockeyed never alters a database it did not create"
        case .missing:
            "check the path (the spool sink's `path:` in the configuration); sockeyed creates the file when it starts with that sink"
        case .cannotOpen:
            "check that the folder exists and that sockeyed may read and write it"
        case .failed:
            "see the SQLite error; sockeyed refuses (nacks) events until a write succeeds"
        }
    }

    public var description: String { "spool \(path): \(kind.rawValue): \(detail); what to do: \(advice)" }

    /// Classifies a failure of SQLite (through GRDB) on the spool at `path`.
    static func classify(_ error: any Error, path: String) -> SpoolError {
        if let error = error as? SpoolError { return error }
        guard let database = error as? DatabaseError else { return SpoolError(.failed, path: path, detail: "\(error)") }
        let detail = "\(database.message ?? "SQLite error") (SQLite code \(database.extendedResultCode.rawValue))"
        switch database.resultCode {
        case .SQLITE_FULL:
            return SpoolError(.diskFull, path: path, detail: detail)
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return SpoolError(.locked, path: path, detail: detail)
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            return SpoolError(.corrupt, path: path, detail: detail)
        case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
            return SpoolError(.cannotOpen, path: path, detail: detail)
        case .SQLITE_IOERR:
            // ENOSPC in an fsync or a shared-memory write, or EFBIG past a file size limit,
            // come back as I/O errors: call them a full disk when the file system says so.
            if FileSystemSpace.isFull(near: path) { return SpoolError(.diskFull, path: path, detail: detail) }
            return SpoolError(.failed, path: path, detail: detail)
        default:
            return SpoolError(.failed, path: path, detail: detail)
        }
    }
}

/// Free space where the spool lives.
enum FileSystemSpace {
    /// Bytes an unprivileged writer may still use on the file system holding `path`'s folder.
    static func available(near path: String) -> UInt64? {
        let folder = (path as NSString).deletingLastPathComponent
        var info = statvfs()
        guard statvfs(folder.isEmpty ? "." : folder, &info) == 0 else { return nil }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize)
    }

    /// Less than a few pages left.
    static func isFull(near path: String) -> Bool {
        guard let free = available(near: path) else { return false }
        return free < 64 * 1024
    }
}
