import Foundation
import SockeyeDaemon
import SockeyeSinkKit
import SockeyeSpool
import Testing

/// The permission bits of the file at `path`, or nil when it does not exist.
func permissionBits(_ path: String) -> mode_t? {
    var info = stat()
    guard stat(path, &info) == 0 else { return nil }
    return info.st_mode & 0o777
}

@Suite("the spool's files are the daemon's user's alone")
struct SpoolPermissionsTests {
    @Test("a new spool and its -wal and -shm files are created 0600, whatever the umask allows")
    func modes() async throws {
        let path = temporaryDirectory() + "/spool.db"
        let previous = umask(0o022)
        defer { umask(previous) }
        let sink = try SpoolSink(name: "spool", settings: SpoolSettings(path: path), logger: quietLogger)
        #expect(await sink.acceptRows((0..<20).map { row($0) }) == nil)
        // While the writer is open, all three files exist.
        for file in [path, path + "-wal", path + "-shm"] {
            let bits = permissionBits(file)
            #expect(bits == 0o600, "\(file): \(bits.map { String($0, radix: 8) } ?? "missing")")
        }
        await sink.close()
    }
}
