/// The host's cap on a pool's connections (`PoolEvent.limitConnections`): in a cluster, the
/// share of the app's connections this process holds.
///
/// `connections` is how many the pool keeps. While Slack recycles one (`warning`,
/// `refresh_requested`), the pool opens its replacement before closing it only when the
/// sockets open stay within `connections + spare`; with no spare it closes the old one
/// first (break before make), so the app's total at Slack never exceeds what the host
/// granted.
public struct ConnectionLimit: Sendable, Hashable, ExpressibleByIntegerLiteral, CustomStringConvertible {
    /// Connections the pool may keep (those being replaced not counted).
    public var connections: Int
    /// Extra sockets allowed meanwhile for make-before-break replacements.
    public var spare: Int

    /// A limit of `connections` (negative: 0) with `spare` extra sockets for replacements.
    public init(connections: Int, spare: Int = 0) {
        self.connections = max(0, connections)
        self.spare = max(0, spare)
    }

    /// `connections` with no spare.
    public init(integerLiteral value: Int) {
        self.init(connections: value)
    }

    /// Sockets open at once, at most: the connections kept and the spare.
    public var sockets: Int { connections.addingReportingOverflow(spare).overflow ? .max : connections + spare }

    public var description: String { spare == 0 ? "\(connections)" : "\(connections)+\(spare) spare" }
}
