import Foundation
import Synchronization

/// One app's connection slots in the cluster: `SlotLeases`' decisions carried out on the
/// `LeaseBucket`, one step at a time. Each step reads every slot's key, feeds what it read to
/// the leases, and writes what they ask for; the `open` and `close` actions are returned for
/// the app's connection pool. The host calls `step` often enough — every sixth of the lease
/// time — that renewals go out at a third.
///
/// Keys: `<app>.<kind>.<n>` (`slot` for connections, `member` for the nodes serving the app;
/// the cluster's refresh spare and the app's leader are leases of one slot each), each holding
/// the name of the node that has it.
///
/// Threading: `step` blocks for a round trip per key (and per write); call it from one
/// serial queue or thread, never from Swift's cooperative pool.
package final class ClusterSlots: Sendable {
    package let app: String
    package let kind: String
    private let bucket: LeaseBucket
    private let leases: Mutex<SlotLeases>
    /// What the last step could not read or write (nil when all went through).
    private let trouble = Mutex<JetStreamError?>(nil)
    /// Gets a line for every write and its outcome, and every slot closed (for debug logs).
    private let trace: (@Sendable (String) -> Void)?

    package init(app: String, kind: String = "slot", node: String, slots: Int, wanted: Int, ttl: Duration, bucket: LeaseBucket,
                 trace: (@Sendable (String) -> Void)? = nil) {
        self.app = app
        self.kind = kind
        self.trace = trace
        self.bucket = bucket
        leases = Mutex(SlotLeases(node: node, slots: slots, wanted: wanted, ttl: ttl))
    }

    /// The key of slot `slot` (the app's name is made a single subject token).
    package func key(_ slot: Int) -> String { "\(JetStreamNaming.token(app)).\(kind).\(slot)" }

    /// The slots held now.
    package var held: [Int] { leases.withLock { $0.held } }

    /// How many slots this node wants now.
    package var wanted: Int { leases.withLock { $0.wanted } }

    /// Who holds each slot, as last read (nil: free, not known, or its holder's lease ran out).
    package var owners: [String?] { leases.withLock { $0.owners(now: .now) } }

    /// The holders whose leases are current, as last read (this node for the slots it holds).
    package var liveOwners: [String] { owners.compactMap { $0 } }

    /// The last step's first failure to read or write a key, if any.
    package var problem: JetStreamError? { trouble.withLock { $0 } }

    /// Closes the slots whose lease ran out (see `SlotLeases.fence`): no I/O, any thread.
    package func fence() -> [SlotLeases.Action] {
        leases.withLock { $0.fence(now: .now) }
    }

    /// Sets how many slots this node wants for the app.
    package func want(_ count: Int) {
        leases.withLock { $0.want(count) }
    }

    /// One round: read, decide, write. Returns the `open` and `close` actions for the pool, in order.
    package func step() -> [SlotLeases.Action] {
        let node = leases.withLock { $0.node }
        let count = leases.withLock { $0.slotCount }
        var forPool: [SlotLeases.Action] = []
        var firstProblem: JetStreamError?
        defer { trouble.withLock { $0 = firstProblem } }
        for slot in 0..<count {
            let read: LeaseBucket.Read?
            do {
                read = try bucket.read(key(slot))
            } catch {
                // Unreadable now: the leases keep what they knew (and fence on their own clock).
                firstProblem = firstProblem ?? error
                continue
            }
            let entry = read.flatMap { found in found.value.map { SlotLeases.Entry(owner: $0, revision: found.revision) } }
            let closes = leases.withLock { $0.observe(slot: slot, entry: entry, at: .now) }
            if !closes.isEmpty { trace?("\(kind) \(slot): read \(entry.map { "\($0.owner)@\($0.revision)" } ?? "none"), closing") }
            forPool += closes
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
                trace?("\(kind) \(action): \(result)")
                switch result {
                case .success(let revision):
                    leases.withLock { $0.succeeded(action, revision: revision, at: .now) }
                case .failure(let error):
                    if case .failed(let failure) = error { firstProblem = firstProblem ?? failure }
                    forPool += leases.withLock { $0.failed(action, conflict: error == .conflict, at: .now) }
                }
            }
        }
        return forPool
    }
}
