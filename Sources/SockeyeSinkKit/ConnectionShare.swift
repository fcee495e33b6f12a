import SockeyeCore

/// This node's share of one app's Socket Mode connections, where several nodes serve the app
/// and Slack's 10 connections are shared among them (a cluster's leases). The daemon starts
/// the app's client with no connection allowed and applies each `ConnectionLimit` the share
/// grants; the share decides when a connection must close (its lease is gone) and when
/// one may open.
///
/// Threading: every method may be called from any thread; `grant` is called on the share's
/// own threads, one call at a time, in the order decided.
public protocol ConnectionShare: Sendable {
    /// Starts taking slots for up to `wanted` connections. `pool` tells how the app's pool
    /// stands (read at every step); `grant` gets each new limit, the first as soon as the
    /// first slots are held.
    func start(wanted: Int, pool: @escaping @Sendable () -> PoolView, grant: @escaping @Sendable (ConnectionLimit) -> Void)
    /// Slack told this node to wait before opening connections (`Retry-After` of
    /// `apps.connections.open`, or `too_many_websockets`): the other nodes wait as long.
    func backOff(for delay: Duration)
    /// Gives the slots back (the app's connections are closed by now); returns once they are
    /// released or a bounded wait has passed.
    func stop() async
    /// What the status page and the metrics show.
    var snapshot: ConnectionShareSnapshot { get }
}

/// What a `ConnectionShare` needs to know about the app's pool.
public struct PoolView: Sendable, Equatable {
    /// Live connections now.
    public var live: Int
    /// Connections being recycled that are not gone yet: while there are any, the node wants
    /// the cluster's spare (to open the replacement before the old one closes).
    public var replacing: Int

    public init(live: Int, replacing: Int) {
        self.live = live
        self.replacing = replacing
    }
}

/// A `ConnectionShare`'s state, for the status page and the metrics.
public struct ConnectionShareSnapshot: Sendable, Equatable {
    /// This node's name.
    public var node: String
    /// The slots shared by the cluster for the app (its connections, the spare not counted).
    public var slots: Int
    /// The holder of each slot as last read (nil: free or not known).
    public var owners: [String?]
    /// The limit in force on this node.
    public var granted: ConnectionLimit
    /// Whether this node holds the cluster's refresh spare now.
    public var holdsSpare: Bool
    /// The app's leader in the cluster (for jobs one node does), when known.
    public var leader: String?
    /// The nodes serving the app now (their member leases are current), sorted.
    public var nodes: [String] = []
    /// Until when (seconds since 1970) the cluster waits before opening connections.
    public var openAfter: Double?
    /// What the leases cannot do now (the servers unreachable), if anything.
    public var problem: String?

    public init(node: String, slots: Int, owners: [String?] = [], granted: ConnectionLimit = 0, holdsSpare: Bool = false,
                leader: String? = nil, openAfter: Double? = nil, problem: String? = nil) {
        self.node = node
        self.slots = slots
        self.owners = owners
        self.granted = granted
        self.holdsSpare = holdsSpare
        self.leader = leader
        self.openAfter = openAfter
        self.problem = problem
    }

    /// Slots held per node, by node name.
    public var slotsByNode: [String: Int] {
        owners.reduce(into: [:]) { counts, owner in if let owner { counts[owner, default: 0] += 1 } }
    }
}
