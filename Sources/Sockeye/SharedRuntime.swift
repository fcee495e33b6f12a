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

    /// The process environment as a dictionary.
    static func environment() -> [String: String] {
        var result: [String: String] = [:]
        var cursor = environ
        while let entry = cursor.pointee {
            let text = String(cString: entry)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            cursor += 1
        }
        return result
    }
}
