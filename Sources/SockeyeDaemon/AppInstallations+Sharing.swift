import SockeyeInstallations
import SockeyeSinkKit

/// What an app installed by OAuth shares with the other nodes of a cluster
/// (`Daemon.InstallationSharingMaker` makes one per app instance): the replica its
/// installations travel through and the lock one node takes to refresh an installation's
/// tokens. A daemon of one node is given none.
public struct InstallationSharing: Sendable {
    public var replica: (any InstallationReplica)?
    public var lock: (any InstallationLock)?

    public init(replica: (any InstallationReplica)?, lock: (any InstallationLock)?) {
        self.replica = replica
        self.lock = lock
    }
}

/// Sharing an app's installations with the other nodes (docs/oauth.md, docs/cluster.md):
/// `InstallationSync` does the work — the cluster's records applied to the store by the
/// merge rule at start and as they change, this node's installs, revocations and rotations
/// published. `AppInstallations` tells it of each local change (`shared(_:)`), and token
/// rotation takes its lock through `InstallationSync.rotationLock(over:)`, which catches the
/// installation up once the lock is taken and publishes the new tokens before giving it back.
extension AppInstallations {
    /// Follows the cluster until the task is cancelled (`AppRunner.run` starts it with the
    /// app's other watchers); returns at once on a single node.
    func runSharing() async {
        guard let sync else { return }
        await sync.run()
    }

    /// Installation `id` changed here: the other nodes get it soon (no wait).
    func shared(_ id: String) {
        sync?.changed(id)
    }

    /// Installation `id` changed here: published now, waiting at most the replica's deadline
    /// (a failure is logged and left to the next reconciliation).
    func sharedNow(_ id: String) async {
        await sync?.publish(id)
    }
}
