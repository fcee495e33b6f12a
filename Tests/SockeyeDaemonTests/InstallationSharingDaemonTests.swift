import Dispatch
import Foundation
import Sockeye
@testable import SockeyeDaemon
import SockeyeInstallations
import SockeyeSim
import SockeyeSinkKit
import Synchronization
import Testing

/// The shared records of an in-memory cluster: what `sockeye_installations` is on JetStream,
/// with the same rule (a publish is kept only when it supersedes the record held). Watchers
/// get every change, in order, on one queue.
final class MemoryInstallationBucket: Sendable {
    private struct State {
        var records: [String: ReplicatedInstallation] = [:]
        var watchers: [Int: @Sendable (InstallationReplicaUpdate) -> Void] = [:]
        var nextWatcher = 0
        var publishes = 0
    }

    private let state = Mutex(State())
    let queue = DispatchQueue(label: "memory-bucket")
    /// How late changes reach the watchers (a slow watch).
    let delay: Double

    init(delay: Double = 0) {
        self.delay = delay
    }

    var publishes: Int { state.withLock { $0.publishes } }

    func record(_ id: String) -> ReplicatedInstallation? { state.withLock { $0.records[id] } }

    func publish(_ record: ReplicatedInstallation) -> ReplicaPublishOutcome {
        let (outcome, watchers) = state.withLock { state -> (ReplicaPublishOutcome, [@Sendable (InstallationReplicaUpdate) -> Void]) in
            if let current = state.records[record.id], !record.supersedes(current) { return (.alreadyCurrent(current), []) }
            state.records[record.id] = record
            state.publishes += 1
            return (.stored, Array(state.watchers.values))
        }
        queue.asyncAfter(deadline: .now() + delay) { for watcher in watchers { watcher(.record(record)) } }
        return outcome
    }

    func watch(_ apply: @escaping @Sendable (InstallationReplicaUpdate) -> Void) -> Int {
        let (id, records) = state.withLock { state -> (Int, [ReplicatedInstallation]) in
            state.nextWatcher += 1
            state.watchers[state.nextWatcher] = apply
            return (state.nextWatcher, Array(state.records.values))
        }
        queue.async {
            for record in records { apply(.record(record)) }
            apply(.caughtUp)
        }
        return id
    }

    func unwatch(_ id: Int) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }
}

/// One node's replica on the in-memory bucket.
final class MemoryInstallationReplica: InstallationReplica {
    let bucket: MemoryInstallationBucket
    private let watcher = Mutex<Int?>(nil)

    init(_ bucket: MemoryInstallationBucket) {
        self.bucket = bucket
    }

    func start(apply: @escaping @Sendable (InstallationReplicaUpdate) -> Void) async {
        let id = bucket.watch(apply)
        watcher.withLock { $0 = id }
    }

    func publish(_ record: ReplicatedInstallation) async throws(InstallationReplicaError) -> ReplicaPublishOutcome {
        bucket.publish(record)
    }

    func fetch(_ id: String) async throws(InstallationReplicaError) -> ReplicatedInstallation? {
        bucket.record(id)
    }

    func stop() async {
        if let id = watcher.withLock({ $0.take() }) { bucket.unwatch(id) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in bucket.queue.async { continuation.resume() } }
    }
}

/// `AppInstallations` of two nodes with separate store files sharing one app through a
/// replica: the install flow, revocations and token rotation in the daemon, against the
/// simulator's OAuth side.
@Suite("installations shared between two nodes in the daemon", .serialized)
struct InstallationSharingDaemonTests {
    let rotation = TokenRotationDaemonTests()

    func node(_ sim: SimServer, runtime: SocketModeRuntime, bucket: MemoryInstallationBucket, lock: FakeInstallationLock) throws
        -> (AppInstallations, Task<Void, Never>) {
        let store = temporaryDirectory() + "/installations.db"
        let installations = try AppInstallations(app: rotation.app(sim, store: store, name: "shared"), runtime: runtime, logger: quietLogger,
                                                 environment: [:], installationLock: lock, replica: MemoryInstallationReplica(bucket))
        return (installations, Task { await installations.runSharing() })
    }

    @Test("an install on A reaches B's store and directory; a revocation on B reaches A")
    func installAndRevoke() async throws {
        let sim = try rotation.sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let bucket = MemoryInstallationBucket()
        let lock = FakeInstallationLock()
        let (a, sharingA) = try node(sim, runtime: runtime, bucket: bucket, lock: lock)
        let (b, sharingB) = try node(sim, runtime: runtime, bucket: bucket, lock: lock)
        let installed = try await rotation.install(a, sim, runtime: runtime)
        // Published before the success page: already in the cluster.
        #expect(bucket.record(installed.id)?.state == .active)
        #expect(await eventually(seconds: 20) { b.directory.isActive(installed.id) })
        #expect(try b.store.installation(id: installed.id)?.bot?.token == installed.bot?.token)

        try await Task.sleep(for: .milliseconds(1100))
        #expect(b.revoke(installed.id, reason: "app_uninstalled"))
        #expect(await eventually(seconds: 20) { !a.directory.isActive(installed.id) })
        #expect(try a.store.installation(id: installed.id) == nil)
        #expect(try a.store.summary(id: installed.id)?.reason == "app_uninstalled")
        for task in [sharingA, sharingB] { task.cancel() }
        for task in [sharingA, sharingB] { await task.value }
    }

    @Test("two nodes with separate stores due at once: one refresh reaches Slack, both stores hold the new pair, no spent token is tried (also when the watch is slower than the lock: the lock catches up)",
          arguments: [0.0, 3.0])
    func rotationShared(watchDelay: Double) async throws {
        let sim = try rotation.sim()
        defer { sim.stop() }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let bucket = MemoryInstallationBucket(delay: watchDelay)
        let lock = FakeInstallationLock()
        let (a, sharingA) = try node(sim, runtime: runtime, bucket: bucket, lock: lock)
        let (b, sharingB) = try node(sim, runtime: runtime, bucket: bucket, lock: lock)
        let installed = try await rotation.install(a, sim, runtime: runtime)
        #expect(await eventually(seconds: 20 + watchDelay) { b.directory.isActive(installed.id) })
        for node in [a, b] { node.rotator.schedule.withLock { $0.policy.busyRetrySeconds = 0.05 } }
        let loops = [rotation.startLoop(a), rotation.startLoop(b)]
        #expect(await eventually { [a, b].allSatisfy { node in node.rotator.schedule.withLock { $0.count } == 1 } })
        for node in [a, b] { node.rotator.advanceClock(by: Double(TokenRotationDaemonTests.lifetime) - 59) }
        #expect(await eventually { rotation.settled(a) && rotation.settled(b) })
        if watchDelay > 0 {
            // B settled before the watch could tell it: only the lock's catch-up did.
            #expect(bucket.publishes == 2)
        }
        #expect(rotation.refreshCalls(sim) == 1)
        #expect(rotation.invalidRefreshTokens(sim) == 0)
        #expect(lock.counts.held == 0, "\(lock.counts)")
        let onA = try #require(try a.store.installation(id: installed.id))
        let onB = try #require(try b.store.installation(id: installed.id))
        #expect(onA.bot?.refreshToken != installed.bot?.refreshToken)
        #expect(onA.bot?.token == onB.bot?.token && onA.bot?.refreshToken == onB.bot?.refreshToken)
        #expect(try await rotation.authTest(try #require(onB.bot?.token), sim: sim, runtime: runtime) == "ok")
        for task in loops + [sharingA, sharingB] { task.cancel() }
        for task in loops + [sharingA, sharingB] { await task.value }
    }
}
