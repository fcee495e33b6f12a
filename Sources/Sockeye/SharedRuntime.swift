import Glibc
import SockeyeTransport

/// One runtime for every client of the process that does not bring its own, started on
/// first use and kept for the life of the process.
enum SharedRuntime {
    nonisolated(unsafe) private static var runtime: TransportRuntime?
    private static let lock = ServiceLock()

    static func get() throws(TransportError) -> TransportRuntime {
        let result: Result<TransportRuntime, TransportError> = lock.withLock {
            if let runtime { return .success(runtime) }
            do throws(TransportError) {
                let created = try TransportRuntime()
                runtime = created
                return .success(created)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}
