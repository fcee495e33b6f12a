import Foundation
import GRDB

extension InstallationStore {
    /// What `apply` did with a shared record.
    public enum ReplicaApplyResult: Sendable, Equatable {
        /// Stored anew (unknown here, revoked here, or re-installed).
        case installed
        /// Its tokens were replaced in place (a rotation on another node).
        case updated
        /// Revoked here (or its revocation's reason and time updated).
        case revoked
        /// This store's record stands: newer, the same, or a revocation of an installation
        /// this store never had.
        case kept
    }

    /// This store's record of installation `id` as the cluster shares it: active with its
    /// tokens, or revoked with its reason (also when another program deleted its tokens);
    /// nil when unknown (or purged).
    ///
    /// Cost: one read transaction.
    public func replicatedRecord(id: String) throws(InstallationStoreError) -> ReplicatedInstallation? {
        try read { db in
            guard let key = try StoredInstallation.key(forID: id, clientID: clientID, in: db),
                  let stored = try StoredInstallation.load(key, clientID: clientID, in: db)
            else { return nil }
            return stored.replicated
        }
    }

    /// Every installation of this store (active and revoked, until purged) as the cluster
    /// shares it, sorted by id.
    ///
    /// Cost: one read transaction, a few lookups per installation.
    public func replicatedRecords() throws(InstallationStoreError) -> [ReplicatedInstallation] {
        try read { db in
            try StoredInstallation.keys(clientID: clientID, withTokensOnly: false, in: db).compactMap { key in
                try StoredInstallation.load(key, clientID: clientID, in: db)?.replicated
            }
        }
    }

    /// Applies a record another node shared, by the merge rule (`ReplicaMerge.decide`
    /// against this store's record, read in the same transaction, so a local change made
    /// meanwhile is compared, never overwritten blindly). The store's times become the
    /// record's: `updatedAt` is the record's, so every node holds the same record.
    /// An install keeps the first install time this store knew; a revocation deletes the
    /// tokens (overwritten on disk, the WAL emptied) as `revoke` does.
    ///
    /// Cost: one write transaction over all tables, then a WAL checkpoint.
    @discardableResult
    public func apply(_ record: ReplicatedInstallation) throws(InstallationStoreError) -> ReplicaApplyResult {
        if let installation = record.installation {
            let key = try validKey(installation)
            guard key.id == record.id else {
                throw InstallationStoreError(.invalid, path: path, detail: "a shared record of \(record.id) holds installation \(key.id)")
            }
        }
        return try write({ db in
            let key: InstallationKey
            if let installation = record.installation {
                key = InstallationKey(isEnterpriseInstall: installation.isEnterpriseInstall, id: installation.id)
            } else {
                guard let found = try StoredInstallation.key(forID: record.id, clientID: clientID, in: db) else { return .kept }
                key = found
            }
            let stored = try StoredInstallation.load(key, clientID: clientID, in: db)
            let at = record.updatedAt
            switch ReplicaMerge.decide(local: stored?.replicated, incoming: record) {
            case .keep:
                return .kept
            case .install(let installation):
                var next = installation
                next.installedAt = stored?.installation?.installedAt ?? installation.installedAt
                next.updatedAt = at
                try deleteSlackRows(key, in: db)
                try insertSlackInstallationRow(next, key: key, at: at, in: db)
                if let bot = next.bot { try insertSlackBotRow(next, bot: bot, key: key, at: at, in: db) }
                try writeOwnRow(next, key: key, in: db)
                return .installed
            case .update(let installation):
                guard let stored, let current = stored.installation else { return .kept }
                var next = installation
                next.installedAt = current.installedAt
                next.updatedAt = at
                try updateSlackRows(next, stored: stored, at: at, in: db)
                try writeOwnRow(next, key: key, in: db)
                return .updated
            case .revoke(let reason, let time):
                if let current = stored?.installation {
                    try writeOwnRow(current, key: key, in: db)
                    try deleteSlackRows(key, in: db)
                }
                try db.execute(sql: """
                    UPDATE sockeye_installations SET state = 'revoked', reason = ?, revoked_at = ?, updated_at = ?
                    WHERE client_id = ? AND id = ?
                    """, arguments: [reason ?? "revoked on another node", time, time, clientID, key.id])
                return .revoked
            }
        }, afterCommit: Self.scrubWAL)
    }
}

extension StoredInstallation {
    /// What the file holds on it as the cluster shares it.
    var replicated: ReplicatedInstallation? {
        if let installation { return .active(installation) }
        guard let own else { return nil }
        let reason = own.state == .revoked ? own.reason : "its rows were deleted from slack_installations and slack_bots by another program"
        return .revoked(id: key.id, reason: reason, updatedAt: own.updatedAt)
    }
}
