import GRDB
import Synchronization

/// Copies the spool's WAL into the database file from a connection of its own, on its own
/// thread, so the writer's commits do not also pay for checkpoints (about a fifth of the
/// writer's time when it did them itself).
///
/// Every `interval` it runs a passive checkpoint, which never blocks the writer nor waits
/// for it: it copies the frames committed so far and stops. The writer keeps SQLite's
/// automatic checkpoint as a backstop with a high threshold (`SpoolStore`), which then finds
/// little left to copy and lets the WAL start over from its beginning.
final class SpoolCheckpointer: Sendable {
    private let connection: DatabaseQueue
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// Opens a second connection to the spool at `path` and starts checkpointing.
    init(path: String, interval: Duration) throws {
        var configuration = Configuration()
        configuration.label = "spool-checkpoint"
        // A passive checkpoint never waits for a lock; a busy one is skipped until next time.
        configuration.busyMode = .immediateError
        connection = try DatabaseQueue(path: path, configuration: configuration)
        let connection = self.connection
        task.withLock {
            $0 = Task.detached(priority: .utility) {
                while !Task.isCancelled {
                    try? await Task.sleep(for: interval)
                    _ = try? await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
                }
            }
        }
    }

    /// Stops checkpointing (waiting for a checkpoint under way) and closes the connection.
    func stop() async {
        let running = task.withLock { task in
            defer { task = nil }
            return task
        }
        running?.cancel()
        await running?.value
        try? connection.close()
    }
}
