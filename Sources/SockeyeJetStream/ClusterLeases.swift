import Foundation
import Logging
import SockeyeSinkKit
import Synchronization

/// The connection leases of this node's apps: one NATS connection to the cluster and the
/// lease bucket (`sockeye_leases`, R3 from three servers up), made when first needed, and a
/// `ClusterShare` per app.
///
/// The connection's requests wait at most a quarter of the lease time (or the cluster's
/// request timeout if shorter), so a step over every key of an app stays well within a lease
/// while the servers do not answer — and the shares fence their slots on their own clock
/// meanwhile.
///
/// Threading: any thread. Ownership: owns the connection; `close()` after the shares stopped.
public final class ClusterLeases: Sendable {
    /// The key-value bucket the leases live in.
    public static let bucketName = "sockeye_leases"

    let cluster: ClusterSettings
    let logger: Logger
    private let connection: CNatsConnection
    private let bucketMade = Mutex<LeaseBucket?>(nil)

    /// Connects to `cluster`'s servers in the background (returns at once). Throws only for
    /// settings libnats refuses.
    public init(cluster: ClusterSettings, logger: Logger) throws(JetStreamError) {
        self.cluster = cluster
        self.logger = logger
        var settings = cluster
        settings.requestTimeoutSeconds = min(cluster.requestTimeoutSeconds, cluster.leaseTimeSeconds / 4)
        connection = try CNatsConnection(cluster: settings, answer: { _, _ in })
    }

    /// The bucket, created (or found) on the first call that reaches the servers.
    func bucket() throws(JetStreamError) -> LeaseBucket {
        if let made = bucketMade.withLock({ $0 }) { return made }
        let made = try LeaseBucket(connection: connection, bucket: Self.bucketName, replicas: cluster.servers.count >= 3 ? 3 : 1)
        bucketMade.withLock { $0 = $0 ?? made }
        return made
    }

    /// The share of `app`'s connections for this node (one per running app instance).
    public func share(app: String) -> ClusterShare {
        ClusterShare(app: app, leases: self)
    }

    /// Closes the connection (the shares' leases then run out on the other nodes' clocks).
    public func close() {
        connection.close()
    }
}
