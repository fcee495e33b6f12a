import Foundation
import SockeyeSinkKit
import Synchronization

/// `InstallationLock` on the cluster's lease bucket (`sockeye_leases`): one node, not
/// several, refreshes an installation's tokens.
///
/// - **Key**: `<app>.rotate.<installation id>` as token rotation names it, each part made a
///   single subject token the way the connection slots' keys are (`ClusterSlots`: a byte
///   that cannot stand in a subject token becomes `_`), e.g. `helpdesk.rotate.T0123`.
/// - **Value**: `{"node":"node-a","expires":1700000120.5}`: the holder and when its lease
///   ends, seconds since 1970 on the holder's clock (the nodes' clocks are assumed to agree
///   to well within a lease; an expiry more than an hour ahead is taken as garbage).
/// - **Acquire**: create the key when it has no value (never written, or deleted), else
///   compare-and-swap on the revision read when its holder's lease has run out (or the
///   holder is this node, or the value is not a lease); any conflict means another node was
///   first: false. Per-key expiry is not used (NATS 2.9 has none).
/// - **Release**: a compare-and-swap delete on the revision this node wrote, so only the
///   holder deletes, and a lease taken over after it ran out is left to its new holder.
///
/// Bounded: each call waits at most `deadlineSeconds`; servers that do not answer mean
/// false (busy: the rotation tries again later). A lease taken after the caller gave up
/// waiting is given back at once.
///
/// Threading: any task; the bucket's blocking calls run on the lock's serial queue.
public final class LeaseInstallationLock: InstallationLock {
    /// The longest a lease may claim to last ahead of now before it is taken as garbage.
    static let longestLeaseSeconds: Double = 3600

    let app: String
    let node: String
    let deadlineSeconds: Double
    private let bucket: @Sendable () throws(JetStreamError) -> LeaseBucket
    private let queue: DispatchQueue
    /// The revision this node wrote for each key it holds.
    private let held = Mutex<[String: UInt64]>([:])

    package init(app: String, node: String, deadlineSeconds: Double = 5, bucket: @escaping @Sendable () throws(JetStreamError) -> LeaseBucket) {
        self.app = app
        self.node = node
        self.deadlineSeconds = deadlineSeconds
        self.bucket = bucket
        queue = DispatchQueue(label: "sockeyed.rotation-lock.\(JetStreamNaming.token(app))")
    }

    /// The bucket key of lock `key` (`<app>.rotate.<id>`).
    package func bucketKey(_ key: String) -> String {
        let ours = key.hasPrefix(app + ".")
        let rest = ours ? String(key.dropFirst(app.count + 1)) : key
        let parts = rest.split(separator: ".", omittingEmptySubsequences: false).map { JetStreamNaming.token(String($0)) }
        return (ours ? [JetStreamNaming.token(app)] + parts : parts).joined(separator: ".")
    }

    public func acquire(_ key: String, leaseSeconds: Double) async -> Bool {
        let bucketKey = bucketKey(key)
        let revision = await DeadlineCall.run(seconds: deadlineSeconds, on: queue, { [self] deadline -> UInt64? in
            // Queued behind slow calls until the caller gave up: not tried at all.
            guard ContinuousClock.now < deadline else { return nil }
            return acquireNow(bucketKey, leaseSeconds: leaseSeconds)
        }, late: { [self] (revision: UInt64?) in
            // Taken after the caller gave up: give it back.
            if let revision { _ = try? bucket().delete(bucketKey, expecting: revision) }
        })
        guard let taken = revision ?? nil else { return false }
        held.withLock { $0[bucketKey] = taken }
        return true
    }

    public func release(_ key: String) async {
        let bucketKey = bucketKey(key)
        guard let revision = held.withLock({ $0.removeValue(forKey: bucketKey) }) else { return }
        _ = await DeadlineCall.run(seconds: deadlineSeconds, on: queue) { [self] _ in
            // A conflict: the lease ran out and another node took it; it is theirs now.
            _ = try? bucket().delete(bucketKey, expecting: revision)
        }
    }

    /// Takes the key if free or run out; the revision written, or nil.
    private func acquireNow(_ key: String, leaseSeconds: Double) -> UInt64? {
        guard let bucket = try? bucket() else { return nil }
        let read: LeaseBucket.Read?
        do {
            read = try bucket.read(key)
        } catch {
            return nil
        }
        let now = Date().timeIntervalSince1970
        if let text = read?.value, let lease = Lease(text), lease.node != node, lease.expires > now,
           lease.expires - now <= Self.longestLeaseSeconds {
            return nil
        }
        let lease = Lease(node: node, expires: now + min(max(0, leaseSeconds.isFinite ? leaseSeconds : 0), Self.longestLeaseSeconds))
        return try? bucket.write(key, value: lease.text, expecting: read?.revision ?? 0)
    }

    /// A lock's value.
    struct Lease: Codable, Equatable {
        var node: String
        var expires: Double

        init(node: String, expires: Double) {
            self.node = node
            self.expires = expires
        }

        init?(_ text: String) {
            guard let lease = try? JSONDecoder().decode(Lease.self, from: Data(text.utf8)), lease.expires.isFinite else { return nil }
            self = lease
        }

        var text: String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        }
    }
}

extension ClusterLeases {
    /// The lock token rotation of `app` (an app with an `oauth:` block) takes, on this
    /// cluster's lease bucket, held in this node's name.
    public func installationLock(app: String) -> LeaseInstallationLock {
        LeaseInstallationLock(app: app, node: cluster.node, deadlineSeconds: min(5, max(1, cluster.leaseTimeSeconds / 2))) { [self] () throws(JetStreamError) in
            try bucket()
        }
    }
}
