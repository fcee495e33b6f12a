/// The host's limit on the pool's connections (`.limitConnections`): in a cluster, the slots
/// of the app this node holds. The pool opens connections only up to it and closes those over
/// it at once.
extension PoolController {
    /// Connections wanted now, within the host's limit.
    var allowedTarget: Int { min(target, connectionLimit?.connections ?? .max) }

    /// Sockets the pool may have open at once (closing ones included): the configuration's
    /// budget, within the host's limit and its spare.
    var socketBudget: Int { min(configuration.connectionBudget, connectionLimit?.sockets ?? .max) }

    /// Sets the limit (nil removes it) and closes the connections over it: active ones over
    /// its `connections`, then ones being replaced while the sockets exceed the budget.
    mutating func limitConnections(_ limit: ConnectionLimit?, now: Instant) {
        connectionLimit = limit
        // Each round closes one (its phase becomes closing, so it no longer counts).
        for _ in 0..<connections.count where activeCount > allowedTarget {
            closeSurplusConnection(now: now)
        }
        // Sockets being replaced beyond the budget (the spare was taken back): those close
        // now, their replacements (if any are live) take over.
        var over = connections.count - socketBudget
        for index in connections.indices where over > 0 {
            guard connections[index].retiring != nil, connections[index].phase != .closing else { continue }
            beginClose(index, now: now)
            over -= 1
        }
    }
}
