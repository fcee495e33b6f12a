/// A network fault to inject (admin API, CLI, scenario files).
public struct Fault: Codable, Sendable {
    /// `drop` (TCP FIN, no close frame), `rst`, `stall` (stop reading), `half_open` (stop
    /// reading and writing, keep TCP), `close` (1000 close frame), `slow_hello` (delay
    /// hello by `seconds`), `refuse` (refuse upgrades for `seconds`), `ghosts` (`count`
    /// ghost registrations living `seconds`).
    public var kind: String
    /// Target connection id; nil targets every connection of app 0.
    public var connection: Int?
    public var seconds: Double?
    public var count: Int?
    public init(kind: String, connection: Int? = nil, seconds: Double? = nil, count: Int? = nil) {
        self.kind = kind; self.connection = connection; self.seconds = seconds; self.count = count
    }
}

extension SimServer {
    /// Applies a fault on the service thread; false for an unknown kind.
    func apply(_ f: Fault, now: Double) -> Bool {
        let targets = f.connection.map { [ConnectionID(UInt64($0))] } ?? core.connections(app: 0)
        switch f.kind {
        case "drop": targets.forEach { core.end($0, .drop(reset: false)) }
        case "rst": targets.forEach { core.end($0, .drop(reset: true)) }
        case "close": targets.forEach { core.end($0, .close(code: 1000, reason: "")) }
        case "stall": targets.forEach { core.setFault($0, stalled: true) }
        case "half_open": targets.forEach { core.setFault($0, halfOpen: true) }
        case "slow_hello": core.helloDelay = f.seconds ?? 5
        case "refuse": core.refuseUntil = now + (f.seconds ?? 5)
        case "ghosts": core.addGhosts(app: 0, count: f.count ?? 1, ttl: f.seconds ?? 60, now: now)
        default: return false
        }
        pump()
        return true
    }

    /// Runs a fault from another thread.
    public func inject(_ fault: Fault) -> Bool {
        sync { _, now in UncheckedBox(value: self).value.apply(fault, now: now) }
    }
}
