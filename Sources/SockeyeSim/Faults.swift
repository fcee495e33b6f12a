/// A network fault to inject (admin API, CLI, scenario files).
public struct Fault: Codable, Sendable {
    /// `drop` (TCP FIN, no close frame), `rst`, `stall` (stop reading), `half_open` (stop
    /// reading and writing, keep TCP), `close` (1000 close frame), `slow_hello` (delay
    /// hello by `seconds`), `refuse` (refuse upgrades for `seconds`), `ghosts` (`count`
    /// ghost registrations living `seconds`).
    public var kind: String
    /// Target connection id; nil targets every connection of `app`.
    public var connection: Int?
    /// Index of the app whose connections (or ghost registrations) the fault hits; nil: 0.
    public var app: Int?
    public var seconds: Double?
    /// `ghosts`: registrations to add. `drop`, `rst`, `close`, `stall`, `half_open` without
    /// `connection`: hit at most this many of the app's connections, oldest first (nil: all).
    public var count: Int?
    public init(kind: String, connection: Int? = nil, app: Int? = nil, seconds: Double? = nil, count: Int? = nil) {
        self.kind = kind; self.connection = connection; self.app = app; self.seconds = seconds; self.count = count
    }
}

extension SimServer {
    /// Applies a fault on the service thread; false for an unknown kind or app.
    func apply(_ f: Fault, now: Double) -> Bool {
        let app = f.app ?? 0
        guard (0..<core.appCount).contains(app) else { return false }
        var targets = f.connection.map { [ServerConnectionID(UInt64($0))] } ?? core.connections(app: app)
        if f.connection == nil, f.kind != "ghosts", let count = f.count { targets = Array(targets.prefix(max(0, count))) }
        switch f.kind {
        case "drop": targets.forEach { core.end($0, .drop(reset: false)) }
        case "rst": targets.forEach { core.end($0, .drop(reset: true)) }
        case "close": targets.forEach { core.end($0, .close(code: 1000, reason: "")) }
        case "stall": targets.forEach { core.setFault($0, stalled: true) }
        case "half_open": targets.forEach { core.setFault($0, halfOpen: true) }
        case "slow_hello": core.helloDelay = f.seconds ?? 5
        case "refuse": core.refuseUntil = now + (f.seconds ?? 5)
        case "ghosts": core.addGhosts(app: app, count: f.count ?? 1, ttl: f.seconds ?? 60, now: now)
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
