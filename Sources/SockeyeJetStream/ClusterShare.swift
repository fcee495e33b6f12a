import Foundation
import SockeyeCore
import SockeyeSinkKit
import Synchronization

/// One app's `ConnectionShare` on the cluster's leases: the app's `max_connections - 1`
/// connection slots (`ClusterSlots`), the app's members (one lease per node serving the app:
/// the live ones split the app's connections evenly, so when one dies the others want its
/// share and take its slots over, and a node that joins gets slots the others give back),
/// the refresh spare (one more lease, held by a node only
/// while one of its connections is being recycled, so the cluster's sockets never exceed
/// `max_connections`), the app's leader (a lease every node asks for; one holds it), and
/// the time before which no node opens a connection (`<app>.open_after`, written when Slack
/// answers with `Retry-After` or `too_many_websockets`).
///
/// A step — every sixth of the lease time, on the share's own queue — reads and writes the
/// keys and grants the pool `ConnectionLimit(connections: slots held, spare: spare held)`.
/// Between steps a fence check, with no I/O, every twentieth of the lease time, lowers the
/// grant as soon as a slot's lease ran out: a step can wait on servers that do not answer,
/// a fence never does.
///
/// Threading: any thread; steps run on one serial queue. `stop()` gives the leases back
/// within a bounded wait.
public final class ClusterShare: ConnectionShare {
    private struct Callbacks {
        var pool: @Sendable () -> PoolView
        var grant: @Sendable (ConnectionLimit) -> Void
    }

    /// The app's connection slots, the refresh spare and the leader.
    private struct LeaseSets {
        var slots: ClusterSlots
        var members: ClusterSlots
        var spare: ClusterSlots
        var leader: ClusterSlots

        var all: [ClusterSlots] { [slots, members, spare, leader] }
    }

    private struct State {
        var callbacks: Callbacks?
        var wanted = 0
        var sets: LeaseSets?
        /// When this node first held its member lease.
        var joinedAt: ContinuousClock.Instant?
        var granted: ConnectionLimit = 0
        /// Seconds since 1970 before which no node opens a connection; the key's revision.
        var openAfter: (time: Double, revision: UInt64)?
        /// A back-off to write at the next step (seconds since 1970).
        var backOffUntil: Double?
        var problem: String?
        var stopped = false
        /// Steps are skipped (tests: a node whose servers stopped answering); fences go on.
        var stepsSuspended = false
        var timers: [DispatchTimer] = []
    }

    public let app: String
    private let leases: ClusterLeases
    private let ttl: Duration
    private let slotCount: Int
    private let queue: DispatchQueue
    private let state = Mutex(State())

    init(app: String, leases: ClusterLeases) {
        self.app = app
        self.leases = leases
        ttl = .milliseconds(Int64((leases.cluster.leaseTimeSeconds * 1000).rounded()))
        slotCount = max(1, leases.cluster.maxConnections - 1)
        queue = DispatchQueue(label: "sockeyed.cluster.\(app)")
    }

    /// The key of the app's shared back-off.
    var openAfterKey: String { "\(JetStreamNaming.token(app)).open_after" }

    public func start(wanted: Int, pool: @escaping @Sendable () -> PoolView, grant: @escaping @Sendable (ConnectionLimit) -> Void) {
        let stepEvery = ttl / 6
        let fenceEvery = max(ttl / 20, .milliseconds(50))
        let step = DispatchSource.makeTimerSource(queue: queue)
        step.schedule(deadline: .now(), repeating: Self.interval(stepEvery), leeway: .milliseconds(20))
        step.setEventHandler { [weak self] in self?.step() }
        let fence = DispatchSource.makeTimerSource(queue: DispatchQueue.global())
        fence.schedule(deadline: .now() + Self.interval(fenceEvery), repeating: Self.interval(fenceEvery), leeway: .milliseconds(10))
        fence.setEventHandler { [weak self] in self?.fence() }
        let started = state.withLock { state -> Bool in
            guard !state.stopped, state.callbacks == nil else { return false }
            state.callbacks = Callbacks(pool: pool, grant: grant)
            state.wanted = min(max(0, wanted), slotCount)
            state.timers = [DispatchTimer(step), DispatchTimer(fence)]
            return true
        }
        guard started else { return }
        step.resume()
        fence.resume()
    }

    /// The longest shared back-off taken from Slack or read from the bucket (a value beyond
    /// it, written by a faulty node, would keep the app deaf).
    static let longestBackOffSeconds: Double = 3600

    public func backOff(for delay: Duration) {
        let seconds = Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        let until = Date().timeIntervalSince1970 + min(max(0, seconds), Self.longestBackOffSeconds)
        state.withLock { $0.backOffUntil = max($0.backOffUntil ?? 0, until) }
        queue.async { [weak self] in self?.writeBackOff() }
    }

    public func stop() async {
        let timers = state.withLock { state -> [DispatchTimer] in
            state.stopped = true
            defer { state.timers = [] }
            return state.timers
        }
        for timer in timers { timer.source.cancel() }
        // Released on the queue (after any step in progress), waited for at most a quarter
        // of a lease: leases not given back run out on the other nodes' clocks.
        let done = OneShot()
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            done.arm(continuation)
            queue.async { [weak self] in
                self?.release()
                done.fire()
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + Self.interval(ttl / 4)) { done.fire() }
        }
    }

    public var snapshot: ConnectionShareSnapshot {
        let current = state.withLock { ($0.sets, $0.granted, $0.openAfter, $0.problem) }
        var snapshot = ConnectionShareSnapshot(
            node: leases.cluster.node, slots: slotCount,
            owners: current.0?.slots.owners ?? Array(repeating: nil, count: slotCount),
            granted: current.1, holdsSpare: !(current.0?.spare.held.isEmpty ?? true),
            leader: current.0?.leader.owners.first ?? nil, openAfter: current.2?.time, problem: current.3)
        snapshot.nodes = Set(current.0?.members.liveOwners ?? []).sorted()
        return snapshot
    }

    // MARK: On the queue

    /// Skips the steps from now on (or resumes them): the node then renews nothing, as when
    /// its servers stop answering, while its fence goes on. For tests.
    package func suspendSteps(_ suspended: Bool) {
        state.withLock { $0.stepsSuspended = suspended }
    }

    /// One round over every key, then the grant.
    private func step() {
        guard !state.withLock({ $0.stepsSuspended }), let sets = leaseSets() else { return }
        let (pool, wanted) = state.withLock { ($0.callbacks?.pool, $0.wanted) }
        let view = pool?() ?? PoolView(live: 0, replacing: 0)
        _ = sets.members.step()
        // Slots are taken a third of a lease after this node joined the members: nodes
        // started together then see each other first, instead of one taking every slot and
        // giving most back (each connection opened costs an `apps.connections.open` call,
        // which Slack rate-limits per app).
        let joined = state.withLock { state -> Bool in
            if state.joinedAt == nil, !sets.members.held.isEmpty { state.joinedAt = .now }
            return state.joinedAt.map { ContinuousClock.now - $0 >= self.ttl / 3 } ?? false
        }
        let nodes = Set(sets.members.liveOwners + [leases.cluster.node]).count
        sets.slots.want(joined ? Self.share(of: wanted, among: nodes) : 0)
        sets.spare.want(view.replacing > 0 ? 1 : 0)
        _ = sets.slots.step()
        _ = sets.spare.step()
        _ = sets.leader.step()
        readOpenAfter()
        writeBackOff()
        let problem = sets.all.lazy.compactMap(\.problem).first
        state.withLock { $0.problem = problem?.message }
        applyGrant(view: view)
    }

    /// The three lease sets, made once the bucket can be reached.
    private func leaseSets() -> LeaseSets? {
        if let made = state.withLock({ $0.sets }) { return made }
        let bucket: LeaseBucket
        do {
            bucket = try leases.bucket()
        } catch {
            state.withLock { $0.problem = "lease bucket: \(error.message)" }
            return nil
        }
        let node = leases.cluster.node
        let (logger, app) = (leases.logger, app)
        let trace: @Sendable (String) -> Void = { line in logger.debug("lease \(line)", metadata: ["app": .string(app)]) }
        let made = LeaseSets(
            slots: ClusterSlots(app: app, node: node, slots: slotCount, wanted: 0, ttl: ttl, bucket: bucket, trace: trace),
            members: ClusterSlots(app: app, kind: "member", node: node, slots: slotCount, wanted: 1, ttl: ttl, bucket: bucket, trace: trace),
            spare: ClusterSlots(app: app, kind: "spare", node: node, slots: 1, wanted: 0, ttl: ttl, bucket: bucket, trace: trace),
            leader: ClusterSlots(app: app, kind: "leader", node: node, slots: 1, wanted: 1, ttl: ttl, bucket: bucket, trace: trace))
        return state.withLock { state in
            if state.sets == nil { state.sets = made }
            return state.sets
        }
    }

    /// Reads the shared back-off.
    private func readOpenAfter() {
        guard let bucket = try? leases.bucket(), let read = try? bucket.read(openAfterKey) else { return }
        let latest = Date().timeIntervalSince1970 + Self.longestBackOffSeconds
        let time = read.value.flatMap(Double.init).flatMap { $0.isFinite && $0 <= latest ? $0 : nil }
        state.withLock { $0.openAfter = time.map { ($0, read.revision) } }
    }

    /// Writes a back-off this node was told of, unless a later one is there already.
    private func writeBackOff() {
        guard let until = state.withLock({ $0.backOffUntil }), let bucket = try? leases.bucket() else { return }
        let current = state.withLock { $0.openAfter }
        if let current, current.time >= until {
            state.withLock { if $0.backOffUntil == until { $0.backOffUntil = nil } }
            return
        }
        do {
            let revision = try bucket.write(openAfterKey, value: String(format: "%.3f", until), expecting: current?.revision ?? 0)
            state.withLock { state in
                state.openAfter = (until, revision)
                if state.backOffUntil == until { state.backOffUntil = nil }
            }
        } catch {
            // A conflict: another node wrote it; the next step reads it and tries again if
            // ours is later. Any other failure: tried again at the next step.
            readOpenAfter()
        }
    }

    /// Gives every lease back (the app's connections are closed).
    private func release() {
        guard let sets = state.withLock({ $0.sets }) else { return }
        for set in sets.all {
            set.want(0)
            _ = set.step()
        }
    }

    // MARK: Any thread

    /// Lowers the grant at once for leases that ran out (no I/O). The grant is checked on
    /// every round, not only when a connection's slot closed: a slot taken in a step's last
    /// round is granted before it was marked open, and runs out all the same.
    private func fence() {
        guard let sets = state.withLock({ $0.sets }) else { return }
        let closed = sets.slots.fence() + sets.spare.fence()
        if !closed.isEmpty {
            leases.logger.debug("lease ran out, closing", metadata: ["app": .string(app), "slots": .string("\(closed)")])
        }
        applyGrant(view: nil)
    }

    /// Grants the pool what is held now: the slots, the spare, and during a shared back-off
    /// no more connections than are live.
    private func applyGrant(view: PoolView?) {
        state.withLock { state in
            guard let callbacks = state.callbacks, !state.stopped, let sets = state.sets else { return }
            var connections = sets.slots.held.count
            if let openAfter = state.openAfter, openAfter.time > Date().timeIntervalSince1970 {
                // Backing off: keep what is live, open nothing.
                connections = min(connections, (view ?? callbacks.pool()).live)
            }
            let limit = ConnectionLimit(connections: connections, spare: sets.spare.held.isEmpty ? 0 : 1)
            guard limit != state.granted else { return }
            leases.logger.info("cluster share changed", metadata: [
                "app": .string(app), "connections": .stringConvertible(limit.connections), "spare": .stringConvertible(limit.spare),
                "slots": .string(sets.slots.held.map(String.init).joined(separator: ",")),
                "wanted": .stringConvertible(sets.slots.wanted)])
            state.granted = limit
            // Called under the lock: grants reach the pool in the order decided.
            callbacks.grant(limit)
        }
    }

    /// This node's part of the app's `connections` when `nodes` nodes serve it: an even split,
    /// rounded up (the slots bound the total).
    static func share(of connections: Int, among nodes: Int) -> Int {
        let nodes = max(1, nodes)
        return (max(0, connections) + nodes - 1) / nodes
    }

    private static func interval(_ duration: Duration) -> DispatchTimeInterval {
        .milliseconds(Int(max(1, duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)))
    }
}

/// A dispatch timer kept in a lock (dispatch sources may be used from any thread).
private struct DispatchTimer: @unchecked Sendable {
    let source: any DispatchSourceTimer

    init(_ source: any DispatchSourceTimer) {
        self.source = source
    }
}
