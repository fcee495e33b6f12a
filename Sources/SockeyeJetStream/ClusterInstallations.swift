import CNats
import Foundation
import Logging
import SockeyeSinkKit
import Synchronization

/// The installations this node's OAuth apps share with the cluster: one NATS connection and
/// the key-value bucket `sockeye_installations` (R3 from three servers up, file storage, one
/// value kept per key; created on first use), and a `JetStreamInstallationReplica` per app.
/// See `InstallationRecordCodec` for the keys and values.
///
/// Each request waits at most two seconds (or the cluster's request timeout if shorter), so
/// a publish, bounded by its own deadline, can retry within it.
///
/// Threading: any thread. Ownership: owns the connection; `close()` after the replicas stopped.
public final class ClusterInstallations: Sendable {
    /// The key-value bucket the installations live in.
    public static let bucketName = "sockeye_installations"

    let cluster: ClusterSettings
    let logger: Logger
    let connection: CNatsConnection
    private let ownsConnection: Bool
    private let bucketMade = Mutex<LeaseBucket?>(nil)

    /// Connects to `cluster`'s servers in the background (returns at once). Throws only for
    /// settings libnats refuses.
    public init(cluster: ClusterSettings, logger: Logger) throws(JetStreamError) {
        self.cluster = cluster
        self.logger = logger
        var settings = cluster
        settings.requestTimeoutSeconds = min(cluster.requestTimeoutSeconds, 2)
        connection = try CNatsConnection(cluster: settings, answer: { _, _ in })
        ownsConnection = true
    }

    /// Over a connection the caller owns (tests).
    package init(connection: CNatsConnection, cluster: ClusterSettings, logger: Logger) {
        self.cluster = cluster
        self.logger = logger
        self.connection = connection
        ownsConnection = false
    }

    /// The bucket, created (or found) on the first call that reaches the servers.
    func bucket() throws(JetStreamError) -> LeaseBucket {
        if let made = bucketMade.withLock({ $0 }) { return made }
        let made = try LeaseBucket(connection: connection, bucket: Self.bucketName, replicas: cluster.servers.count >= 3 ? 3 : 1)
        bucketMade.withLock { $0 = $0 ?? made }
        return made
    }

    /// The replica of the app whose OAuth client id is `clientID` (the same on every node)
    /// and secret `clientSecret` (the sealing key is derived from it).
    public func replica(clientID: String, clientSecret: String, timing: JetStreamInstallationReplica.Timing = .init())
        -> JetStreamInstallationReplica {
        JetStreamInstallationReplica(owner: self, clientID: clientID, sealKey: InstallationSealKey(clientSecret: clientSecret), timing: timing)
    }

    /// Closes the connection (when this made it).
    public func close() {
        if ownsConnection { connection.close() }
    }
}

extension CNatsConnection {
    /// How many times the connection reconnected (libnats's statistics).
    var reconnectCount: UInt64 {
        var statsPointer: OpaquePointer?
        guard natsStatistics_Create(&statsPointer) == NATS_OK, let stats = statsPointer else { return 0 }
        defer { natsStatistics_Destroy(stats) }
        var reconnects: UInt64 = 0
        guard natsConnection_GetStats(natsConnection, stats) == NATS_OK,
              natsStatistics_GetCounts(stats, nil, nil, nil, nil, &reconnects) == NATS_OK
        else { return 0 }
        return reconnects
    }
}

/// What sockeyed's apps installed by OAuth share in a cluster: each app's replica (on one
/// `ClusterInstallations`, connected when the first app asks, so a node without such apps
/// opens no connection for it) and each app's token-rotation lock (on the cluster's leases).
///
/// Threading: any thread.
public final class ClusterInstallationSharing: Sendable {
    let cluster: ClusterSettings
    let leases: ClusterLeases
    let logger: Logger
    private let made = Mutex<ClusterInstallations?>(nil)

    public init(cluster: ClusterSettings, leases: ClusterLeases, logger: Logger) {
        self.cluster = cluster
        self.leases = leases
        self.logger = logger
    }

    /// The replica of the app with OAuth client id `clientID` and secret `clientSecret`.
    /// Throws only when libnats refuses the cluster's settings.
    public func replica(clientID: String, clientSecret: String) throws(JetStreamError) -> JetStreamInstallationReplica {
        try installations().replica(clientID: clientID, clientSecret: clientSecret)
    }

    /// The lock token rotation of app `app` takes.
    public func lock(app: String) -> LeaseInstallationLock {
        leases.installationLock(app: app)
    }

    private func installations() throws(JetStreamError) -> ClusterInstallations {
        if let existing = made.withLock({ $0 }) { return existing }
        let fresh = try ClusterInstallations(cluster: cluster, logger: logger)
        let (kept, spare) = made.withLock { made -> (ClusterInstallations, ClusterInstallations?) in
            if let made { return (made, fresh) }
            made = fresh
            return (fresh, nil)
        }
        spare?.close()
        return kept
    }

    /// Closes the installations' connection, if one was made.
    public func close() {
        made.withLock { $0 }?.close()
    }
}
