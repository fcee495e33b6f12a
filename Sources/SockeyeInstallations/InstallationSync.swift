import Foundation
import Logging
import SockeyeSinkKit
import Synchronization

/// Keeps one app's installation store and directory in step with the other nodes', through
/// an `InstallationReplica`:
///
/// - **Incoming.** Every shared record the replica delivers is applied to the store by the
///   merge rule (`InstallationStore.apply`), and the directory is rebuilt when it changed
///   something (after the first catch-up: the records read at start are applied first and
///   the directory rebuilt once).
/// - **Outgoing.** `changed(_:)` after every local change (an install, a revocation, user
///   tokens dropped, a rotation) queues the installation; a task publishes this store's
///   record of it unless the shared one is as new. After each catch-up, and every
///   `reconcileSeconds`, every local record the cluster lacks or holds older is queued too:
///   a publish that failed (the servers were away), a change made by another process on
///   this node's file (`sockeyed installations revoke`) and the installations this node had
///   before it joined all reach the others that way.
/// - **Rotation.** `rotationLock(over:)` wraps the cluster's lock: once the lock is taken, the
///   installation's shared record is read and applied (the refresh then starts from the
///   newest refresh token, whichever node stored it), and before it is given back the new
///   tokens are published.
/// - **Unreadable records** (sealed with another client secret, or altered) are republished
///   from this store when it has the installation, at most every `republishSeconds` per
///   installation (two nodes configured with different secrets would otherwise overwrite
///   each other in a loop).
///
/// Threading: any thread. `run()` is the only long-lived task; incoming records are applied
/// on the replica's thread; publishes run on `run()`'s task. The queue holds installation ids
/// (a set), so it is bounded by the number of installations. Logs name installations by id,
/// never a token.
public final class InstallationSync: Sendable {
    public let app: String
    public let store: InstallationStore
    public let directory: InstallationDirectory
    public let replica: any InstallationReplica
    let logger: Logger
    let reconcileSeconds: Double
    let republishSeconds: Double

    private struct State {
        /// The cluster's record of each installation, as last seen.
        var seen: [String: ReplicatedInstallation] = [:]
        /// Installations whose shared record this node could not open, with when this node
        /// last republished each.
        var unreadable: [String: Double] = [:]
        /// Installations to publish.
        var pending: Set<String> = []
        var caughtUpCount = 0
        var started = false
        /// A publish failed and has not succeeded since (said once).
        var failing = false
    }

    private let state = Mutex(State())
    private let wake: AsyncStream<Void>
    private let wakeContinuation: AsyncStream<Void>.Continuation

    /// Syncs `store` (and `directory`, rebuilt from it) of app `app` through `replica`.
    public init(app: String, store: InstallationStore, directory: InstallationDirectory, replica: any InstallationReplica, logger: Logger,
                reconcileSeconds: Double = 30, republishSeconds: Double = 600) {
        self.app = app
        self.store = store
        self.directory = directory
        self.replica = replica
        self.logger = logger
        self.reconcileSeconds = reconcileSeconds
        self.republishSeconds = republishSeconds
        (wake, wakeContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Whether the shared records have been read once since `run()` began.
    public var isCaughtUp: Bool { state.withLock { $0.caughtUpCount > 0 } }

    /// How many times the replica said every shared record was delivered (at start, then
    /// after each reconnect).
    public var catchUps: Int { state.withLock { $0.caughtUpCount } }

    /// Follows the cluster and publishes local changes until the task is cancelled, then
    /// stops the replica. Called once (a second call returns at once).
    public func run() async {
        guard state.withLock({ state in
            defer { state.started = true }
            return !state.started
        }) else { return }
        await replica.start { [weak self] update in self?.receive(update) }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.publishLoop() }
            group.addTask { await self.reconcileLoop() }
            await group.waitForAll()
        }
        wakeContinuation.finish()
        await replica.stop()
    }

    /// Waits until the shared records have been read once (at most `seconds`); whether they were.
    public func waitUntilCaughtUp(seconds: Double) async -> Bool {
        let deadline = ContinuousClock.now + BoundedTime.duration(seconds)
        while !isCaughtUp, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return isCaughtUp
    }

    /// Installation `id` changed here: its record is published soon (on `run()`'s task).
    public func changed(_ id: String) {
        state.withLock { _ = $0.pending.insert(id) }
        wakeContinuation.yield()
    }

    /// Publishes this store's record of installation `id` now, unless the cluster's is as
    /// new; bounded by the replica's deadline. A failure is logged and left to the next
    /// reconciliation.
    public func publish(_ id: String) async {
        await publishLocal(id)
    }

    /// Reads the cluster's record of installation `id` afresh and applies it (bounded by the
    /// replica's deadline; a failure is logged at debug level and changes nothing).
    public func catchUp(_ id: String) async {
        do {
            if let record = try await replica.fetch(id) { receive(.record(record)) }
        } catch {
            if error.kind == .unreadable {
                receive(.unreadable(id: id))
            } else {
                logger.debug("could not read the cluster's record of an installation",
                             metadata: ["installation": .string(id), "error": .string(error.message)])
            }
        }
    }

    /// The lock token rotation takes (`<app>.rotate.<installation id>`): `inner` (the
    /// cluster's; nil: none, always granted), with the installation caught up once taken
    /// and published before it is given back.
    public func rotationLock(over inner: (any InstallationLock)?) -> any InstallationLock {
        SyncedRotationLock(inner: inner, sync: self, prefix: "\(app).rotate.")
    }

    // MARK: Incoming (the replica's thread)

    func receive(_ update: InstallationReplicaUpdate) {
        switch update {
        case .record(let record):
            state.withLock { state in
                state.unreadable[record.id] = nil
                if let known = state.seen[record.id], known.supersedes(record) { return }
                state.seen[record.id] = record
            }
            applyLocally(record)
        case .unreadable(let id):
            let republish = state.withLock { state -> Bool in
                state.seen[id] = nil
                let now = Date().timeIntervalSince1970
                if let last = state.unreadable[id], now - last < republishSeconds { return false }
                state.unreadable[id] = now
                return true
            }
            if republish, (try? store.replicatedRecord(id: id)) != nil {
                logger.notice("republishing an installation the cluster holds unreadable (sealed with another client secret?)",
                              metadata: ["installation": .string(id)])
                changed(id)
            }
        case .caughtUp:
            // The directory first: whoever sees `isCaughtUp` sees the cluster's installations.
            let first = !isCaughtUp
            if first { refreshDirectory() }
            state.withLock { $0.caughtUpCount += 1 }
            if first { logger.info("installations caught up with the cluster", metadata: ["active": .stringConvertible(directory.count)]) }
            reconcile()
        }
    }

    /// Applies a shared record to the store; rebuilds the directory when it changed something.
    private func applyLocally(_ record: ReplicatedInstallation) {
        let id: Logger.MetadataValue = .string(record.id)
        do {
            let result = try store.apply(record)
            switch result {
            case .kept:
                // This node's record is newer: once caught up, the cluster gets it.
                if isCaughtUp, let local = try store.replicatedRecord(id: record.id), local.supersedes(record) { changed(record.id) }
                return
            case .installed:
                logger.notice("installation taken from the cluster", metadata: ["installation": id, "updated_at": .stringConvertible(record.updatedAt)])
            case .updated:
                logger.info("installation's tokens taken from the cluster", metadata: ["installation": id, "updated_at": .stringConvertible(record.updatedAt)])
            case .revoked:
                logger.notice("installation revoked by the cluster", metadata: ["installation": id, "reason": .string(record.reason ?? "-")])
            }
            if isCaughtUp { refreshDirectory() }
        } catch {
            logger.error("could not apply the cluster's record of an installation", metadata: ["installation": id, "error": .string(error.description)])
        }
    }

    private func refreshDirectory() {
        do {
            directory.replace(with: try store.activeInstallations())
        } catch {
            logger.error("could not read the installation store", metadata: ["error": .string(error.description)])
        }
    }

    // MARK: Outgoing (run()'s task)

    /// Queues every local record the cluster lacks or holds older (once caught up).
    func reconcile() {
        guard isCaughtUp else { return }
        let records: [ReplicatedInstallation]
        do {
            records = try store.replicatedRecords()
        } catch {
            logger.warning("could not read the installation store to share it", metadata: ["error": .string(error.description)])
            return
        }
        let now = Date().timeIntervalSince1970
        let due = state.withLock { state in
            records.filter { local in
                if let last = state.unreadable[local.id], now - last < republishSeconds { return false }
                guard let seen = state.seen[local.id] else { return true }
                return local.supersedes(seen)
            }
        }
        for record in due { changed(record.id) }
    }

    private func publishLoop() async {
        for await _ in wake {
            let ids = state.withLock { state in
                defer { state.pending = [] }
                return state.pending.sorted()
            }
            for id in ids where !Task.isCancelled { await publishLocal(id) }
        }
    }

    private func reconcileLoop() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: BoundedTime.duration(reconcileSeconds))
            if Task.isCancelled { break }
            reconcile()
        }
    }

    private func publishLocal(_ id: String) async {
        let local: ReplicatedInstallation
        do {
            guard let found = try store.replicatedRecord(id: id) else { return }
            local = found
        } catch {
            logger.warning("could not read an installation to share it", metadata: ["installation": .string(id), "error": .string(error.description)])
            return
        }
        if let seen = state.withLock({ $0.seen[id] }), !local.supersedes(seen) { return }
        do {
            let outcome = try await replica.publish(local)
            let recovered = state.withLock { state -> Bool in
                defer { state.failing = false }
                return state.failing
            }
            if recovered { logger.notice("installations are shared with the cluster again") }
            switch outcome {
            case .stored:
                state.withLock { state in
                    if let known = state.seen[id], known.supersedes(local) { return }
                    state.seen[id] = local
                }
                logger.debug("installation shared", metadata: ["installation": .string(id), "state": .string(local.state.rawValue),
                                                                "updated_at": .stringConvertible(local.updatedAt)])
            case .alreadyCurrent(let shared):
                receive(.record(shared))
            }
        } catch {
            let first = state.withLock { state -> Bool in
                defer { state.failing = true }
                return !state.failing
            }
            let metadata: Logger.Metadata = ["installation": .string(id), "error": .string(error.message)]
            if first {
                logger.warning("could not share an installation with the cluster; tried again when the servers answer", metadata: metadata)
            } else {
                logger.debug("could not share an installation with the cluster", metadata: metadata)
            }
        }
    }
}

/// Rotation's lock with the installation caught up once taken and published before it is
/// given back (`InstallationSync.rotationLock(over:)`).
struct SyncedRotationLock: InstallationLock {
    let inner: (any InstallationLock)?
    let sync: InstallationSync
    let prefix: String

    func acquire(_ key: String, leaseSeconds: Double) async -> Bool {
        if let inner { guard await inner.acquire(key, leaseSeconds: leaseSeconds) else { return false } }
        if let id = installationID(key) { await sync.catchUp(id) }
        return true
    }

    func release(_ key: String) async {
        if let id = installationID(key) { await sync.publish(id) }
        await inner?.release(key)
    }

    private func installationID(_ key: String) -> String? {
        guard key.hasPrefix(prefix), key.count > prefix.count else { return nil }
        return String(key.dropFirst(prefix.count))
    }
}
