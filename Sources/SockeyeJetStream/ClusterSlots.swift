import Foundation
import Synchronization

/// One app's connection slots in the cluster: `SlotLeases`' decisions carried out on the
/// `LeaseBucket`, one step at a time. Each step reads every slot's key, feeds what it read to
/// the leases, and writes what they ask for; the `open` and `close` actions are returned for
/// the app's connection pool. The host calls `step` often enough — every sixth of the lease
/// time — that renewals go out at a third.
///
/// Keys: `<app>.slot.<n>`, each holding the name of the node that has it.
///
/// Threading: `step` blocks for a round trip per key (and per write); call it from one
/// serial queue or thread, never from Swift's cooperative pool.
package final class ClusterSlots: Sendable {
    package let app: String
    private let bucket: LeaseBucket
    private let leases: Mutex<SlotLeases>

    package init(app: String, node: String, slots: Int, wanted: Int, ttl: Duration, bucket: LeaseBucket) {
        self.app = app
        self.bucket = bucket
        leases = Mutex(SlotLeases(node: node, slots: slots, wanted: wanted, ttl: ttl))
    }

    /// The key of slot `slot` (the app's name is made a single subject token).
    package func key(_ slot: Int) -> String { "\(JetStreamNaming.token(app)).slot.\(slot)" }

    /// The slots held now.
    package var held: [Int] { leases.withLock { $0.held } }

    /// Sets how many slots this node wants for the app.
    package func want(_ count: Int) {
        leases.withLock { $0.want(count) }
    }

    /// One round: read, decide, write. Returns the `open` and `close` actions for the pool, in order.
    package func step() -> [SlotLeases.Action] {
        let node = leases.withLock { $0.node }
        let count = leases.withLock { $0.slotCount }
        var forPool: [SlotLeases.Action] = []
        for slot in 0..<count {
            let read: LeaseBucket.Read?
            do {
                read = try bucket.read(key(slot))
            } catch {
                continue  // unreadable now: the leases keep what they knew (and fence on their own clock)
            }
            let entry = read.flatMap { found in found.value.map { SlotLeases.Entry(owner: $0, revision: found.revision) } }
            forPool += leases.withLock { $0.observe(slot: slot, entry: entry, at: .now) }
        }
        // Twice: the second tick opens what the first one's writes took.
        for _ in 0..<2 {
            for action in leases.withLock({ $0.tick(now: .now) }) {
                let result: Result<UInt64, LeaseBucket.WriteError>
                switch action {
                case .open, .close:
                    forPool.append(action)
                    continue
                case .create(let slot):
                    result = Result { () throws(LeaseBucket.WriteError) in try bucket.create(key(slot), value: node) }
                case .takeOver(let slot, let revision), .renew(let slot, let revision):
                    result = Result { () throws(LeaseBucket.WriteError) in try bucket.write(key(slot), value: node, expecting: revision) }
                case .release(let slot, let revision):
                    result = Result { () throws(LeaseBucket.WriteError) in try bucket.delete(key(slot), expecting: revision) }
                }
                switch result {
                case .success(let revision):
                    leases.withLock { $0.succeeded(action, revision: revision, at: .now) }
                case .failure(let error):
                    forPool += leases.withLock { $0.failed(action, conflict: error == .conflict, at: .now) }
                }
            }
        }
        return forPool
    }
}
