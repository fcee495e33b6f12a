import SockeyeSinkKit
import Synchronization

/// The active installations of one app, indexed for per-event authorization: a workspace
/// install by its team id, an org-wide install by its enterprise id. Immutable; the daemon
/// builds a new one whenever the store changes (an install, a revocation, a rotation).
public struct AuthorizationIndex: Sendable {
    private var byTeam: [String: EventAuthorization] = [:]
    private var byEnterprise: [String: EventAuthorization] = [:]
    private var ids: Set<String> = []

    /// No installation: every event is unauthorized.
    public init() {}

    /// The index of `installations` (revoked ones are not given).
    public init(_ installations: [Installation]) {
        byTeam.reserveCapacity(installations.count)
        for installation in installations {
            let entry = EventAuthorization(installationID: installation.id, botUserID: installation.bot?.botUserID,
                                           botID: installation.bot.flatMap { $0.botID.isEmpty ? nil : $0.botID })
            ids.insert(installation.id)
            if installation.isEnterpriseInstall, let enterprise = installation.enterpriseID, !enterprise.isEmpty {
                byEnterprise[enterprise] = entry
            } else if let team = installation.teamID, !team.isEmpty {
                byTeam[team] = entry
            }
        }
    }

    /// How many installations it holds.
    public var count: Int { byTeam.count + byEnterprise.count }

    /// Whether installation `id` is in it (active).
    public func contains(_ id: String) -> Bool { ids.contains(id) }

    /// The installation covering `tenant`, found as Slack keys installations: an org-wide
    /// event by its enterprise, any other by its team; a workspace of an org where the app
    /// has no workspace install falls back to the org-wide install, if any.
    public func authorize(_ tenant: EventTenant) -> EventAuthorization? {
        if tenant.isEnterpriseInstall, let enterprise = tenant.enterpriseID {
            return byEnterprise[enterprise]
        }
        if let team = tenant.teamID, let found = byTeam[team] { return found }
        if let enterprise = tenant.enterpriseID { return byEnterprise[enterprise] }
        return nil
    }
}

/// The live authorization index of one app, swapped whole when installations change.
/// `authorize` is called for every event on the thread that reads it: one lock, one or two
/// dictionary lookups, no I/O.
public final class InstallationDirectory: EventAuthorizer {
    private let index: Mutex<AuthorizationIndex>

    /// A directory of `installations` (the store's active ones).
    public init(_ installations: [Installation] = []) {
        index = Mutex(AuthorizationIndex(installations))
    }

    /// Replaces the index with one of `installations` (the store's active ones, read again).
    public func replace(with installations: [Installation]) {
        var index = AuthorizationIndex(installations)
        // The old index is freed after the lock is released: freeing a thousand entries
        // takes tens of microseconds, which an event waiting on the lock would pay.
        self.index.withLock { swap(&$0, &index) }
        withExtendedLifetime(index) {}
    }

    /// How many installations are active.
    public var count: Int { index.withLock { $0.count } }

    /// Whether installation `id` is active.
    public func isActive(_ id: String) -> Bool { index.withLock { $0.contains(id) } }

    public func authorize(_ tenant: EventTenant) -> EventAuthorization? {
        index.withLock { $0.authorize(tenant) }
    }
}
