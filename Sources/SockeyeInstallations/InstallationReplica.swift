/// Shares one app's installations with the other nodes that serve the app (a cluster of
/// sockeyed daemons): an install lands on one node, but its workspace's events may arrive
/// on any node's connections, and a node that rotated a token holds the only refresh token
/// that still works. Each node keeps its own store; the replica carries every install,
/// rotation and revocation to the others as a `ReplicatedInstallation`, and
/// `ReplicatedInstallation.supersedes` decides, the same way on every node, which of two
/// records of an installation stands.
///
/// `InstallationSync` drives it for one app: it applies what `start` delivers to the local
/// store and publishes the local changes.
///
/// Threading: every method may be called from any task. `apply` is called on the replica's
/// own thread (never Swift's cooperative pool), one update at a time, in the order the
/// shared records changed; it may block briefly (a SQLite transaction). Every method is
/// bounded in time: one that cannot reach the others throws (or, for `start`, keeps trying
/// in the background) rather than wait.
public protocol InstallationReplica: Sendable {
    /// Starts following the shared records: `apply` gets every record shared now (then
    /// `.caughtUp`), then every change, from any node (this one's own publishes included),
    /// and the whole set again (then `.caughtUp`) after the replica lost track (a reconnect,
    /// a server restart). Returns once following has begun; the records arrive on the
    /// replica's thread. Called once.
    func start(apply: @escaping @Sendable (InstallationReplicaUpdate) -> Void) async
    /// Shares this node's record of an installation (an install, a rotation, a revocation)
    /// unless the shared one supersedes it (`supersedes`); then that one is returned.
    /// Throws when the others cannot be reached within the replica's deadline.
    @discardableResult
    func publish(_ record: ReplicatedInstallation) async throws(InstallationReplicaError) -> ReplicaPublishOutcome
    /// The shared record of installation `id` now (nil: none), read afresh (bounded).
    func fetch(_ id: String) async throws(InstallationReplicaError) -> ReplicatedInstallation?
    /// Stops following (bounded); `apply` is not called after it returns.
    func stop() async
}

/// What a replica hands to `apply`.
public enum InstallationReplicaUpdate: Sendable, Equatable {
    /// A shared record (a change, or one of the set read at start or after a reconnect).
    case record(ReplicatedInstallation)
    /// A shared record of installation `id` that cannot be read with this node's key (it
    /// was sealed with another client secret) or was altered. A node that has the
    /// installation publishes its own record over it.
    case unreadable(id: String)
    /// Every record shared when following (re)started has been delivered.
    case caughtUp
}

/// How a publish went.
public enum ReplicaPublishOutcome: Sendable, Equatable {
    /// The record is now the shared one.
    case stored
    /// The shared record supersedes (or equals) the one given, which was not written.
    case alreadyCurrent(ReplicatedInstallation)
}

/// Why a replica call failed. Its text never holds a token or a secret.
public struct InstallationReplicaError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The others cannot be reached now (no server, a timeout, the deadline passed).
        case unavailable
        /// The shared record cannot be opened with this node's key, or was altered.
        case unreadable
        /// Other nodes kept writing the record; tried a few times.
        case contended
        /// Anything else (a refused request).
        case failed
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// One installation as the nodes share it: its id, state, the reason of a revocation, when
/// it last changed and, when active, the whole installation with its tokens.
///
/// **The merge rule** (`supersedes`): the record changed last wins — a larger `updatedAt`
/// (seconds since 1970, stamped by the node that made the change); on a tie a revocation
/// wins over an install; on a tie of both, a fixed order over the contents decides, so every
/// node picks the same record. Hence a stale write never overwrites a newer one, a revocation
/// is never undone by an older (or same-second) install, and an install after a revocation
/// (a later `updatedAt`) stands. The nodes' clocks are assumed to agree to within a second or
/// so: a change made on a node whose clock is behind by more than the time since the previous
/// change loses to it.
public struct ReplicatedInstallation: Sendable, Equatable, CustomStringConvertible {
    /// The installation's id (an enterprise id for an org-wide install, else a team id).
    public var id: String
    public var state: InstallationState
    /// Why it was revoked (nil when active).
    public var reason: String?
    /// When it last changed (an install, a rotation, a revocation), seconds since 1970.
    public var updatedAt: Int64
    /// The installation with its tokens; non-nil exactly when `state` is `active`.
    public var installation: Installation?

    /// An active installation, changed at `updatedAt` (its own `updatedAt` by default).
    public static func active(_ installation: Installation, updatedAt: Int64? = nil) -> ReplicatedInstallation {
        var installation = installation
        let time = updatedAt ?? installation.updatedAt
        installation.updatedAt = time
        return ReplicatedInstallation(id: installation.id, state: .active, reason: nil, updatedAt: time, installation: installation)
    }

    /// A revoked installation (no tokens), revoked for `reason` at `updatedAt`.
    public static func revoked(id: String, reason: String?, updatedAt: Int64) -> ReplicatedInstallation {
        ReplicatedInstallation(id: id, state: .revoked, reason: reason, updatedAt: updatedAt, installation: nil)
    }

    private init(id: String, state: InstallationState, reason: String?, updatedAt: Int64, installation: Installation?) {
        self.id = id
        self.state = state
        self.reason = reason
        self.updatedAt = updatedAt
        self.installation = installation
    }

    /// Whether this record wins over `other` (a record of the same installation): see the
    /// merge rule above. Irreflexive and total over different records: of two records that
    /// differ, exactly one supersedes the other; a record never supersedes an equal one.
    public func supersedes(_ other: ReplicatedInstallation) -> Bool {
        if updatedAt != other.updatedAt { return updatedAt > other.updatedAt }
        if state != other.state { return state == .revoked }
        return other.contentOrder.lexicographicallyPrecedes(contentOrder)
    }

    /// The contents, in a fixed order, for the last tie-break. Not the install time: each
    /// store keeps the first one it knew, which may differ between nodes.
    private var contentOrder: [String] {
        guard let installation else { return [reason ?? ""] }
        let bot = installation.bot
        let user = installation.user
        return [
            bot?.token ?? "", bot?.refreshToken ?? "", user?.token ?? "", user?.refreshToken ?? "",
            bot.flatMap { $0.expiresAt.map(String.init) } ?? "", user.flatMap { $0.expiresAt.map(String.init) } ?? "",
            bot?.botID ?? "", bot?.botUserID ?? "", (bot?.scopes ?? []).joined(separator: ","), (user?.scopes ?? []).joined(separator: ","),
            installation.appID, installation.enterpriseID ?? "", installation.enterpriseName ?? "", installation.enterpriseURL ?? "",
            installation.teamID ?? "", installation.teamName ?? "", installation.isEnterpriseInstall ? "1" : "0",
            installation.installerUserID, installation.tokenType ?? "",
        ]
    }

    /// Ids, state and time only: no token.
    public var description: String {
        "ReplicatedInstallation(id: \(id), state: \(state.rawValue), updated_at: \(updatedAt)\(reason.map { ", reason: \($0)" } ?? ""))"
    }
}

/// What a node does with a shared record, given its own (the merge rule applied to the
/// local store). No I/O: `InstallationStore.apply` carries it out in one transaction.
public enum ReplicaMerge {
    public enum Decision: Sendable, Equatable {
        /// The local record stands (it is newer, or the same).
        case keep
        /// Store the installation anew (unknown here, revoked here, or its identity changed:
        /// a re-install).
        case install(Installation)
        /// The same installation with new tokens (a rotation elsewhere): update them in place.
        case update(Installation)
        /// Revoke it here (or, already revoked, take the newer reason and time).
        case revoke(reason: String?, at: Int64)
    }

    /// What to do with `incoming` when this node's record of the installation is `local`
    /// (nil: the node never had it).
    public static func decide(local: ReplicatedInstallation?, incoming: ReplicatedInstallation) -> Decision {
        guard let local else {
            // A revocation of an installation this node never had: nothing to remove.
            if let installation = incoming.installation, incoming.state == .active { return .install(installation) }
            return .keep
        }
        guard incoming.supersedes(local) else { return .keep }
        switch (incoming.state, incoming.installation) {
        case (.active, let installation?):
            if local.state == .active, let current = local.installation, sameIdentity(current, installation) {
                return .update(installation)
            }
            return .install(installation)
        default:
            return .revoke(reason: incoming.reason, at: incoming.updatedAt)
        }
    }

    /// Whether `a` and `b` differ only in their tokens and times (a rotation, not a re-install).
    static func sameIdentity(_ a: Installation, _ b: Installation) -> Bool {
        a.appID == b.appID && a.enterpriseID == b.enterpriseID && a.enterpriseName == b.enterpriseName
            && a.enterpriseURL == b.enterpriseURL && a.teamID == b.teamID && a.teamName == b.teamName
            && a.isEnterpriseInstall == b.isEnterpriseInstall && a.installerUserID == b.installerUserID
            && a.tokenType == b.tokenType && (a.bot == nil) == (b.bot == nil) && (a.user == nil) == (b.user == nil)
            && a.bot?.botID == b.bot?.botID && a.bot?.botUserID == b.bot?.botUserID
    }
}
