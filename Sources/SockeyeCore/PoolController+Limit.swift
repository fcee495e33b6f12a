/// The host's limit on the pool's connections (`.limitConnections`): in a cluster, the slots
/// of the app this node holds. The pool opens connections only up to it and closes those over
/// it at once.
extension PoolController {
    /// Connections wanted now, within the host's limit.
    var allowedTarget: Int { min(target, connectionLimit ?? .max) }

    /// Sets the limit (nil removes it) and closes the connections over it.
    mutating func limitConnections(_ limit: Int?, now: Instant) {
        connectionLimit = limit.map { max(0, $0) }
        // Each round closes one (its phase becomes closing, so it no longer counts).
        for _ in 0..<connections.count where activeCount > allowedTarget {
            closeSurplusConnection(now: now)
        }
    }
}
