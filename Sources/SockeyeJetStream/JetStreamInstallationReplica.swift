import CNats
import Foundation
import Logging
import SockeyeInstallations
import SockeyeSinkKit
import Synchronization

/// One app's installations shared through the bucket `sockeye_installations`
/// (`InstallationReplica` on JetStream; keys and values: `InstallationRecordCodec`).
///
/// - **Publishing** reads the key, leaves it when the stored record supersedes the one given
///   (or equals it), else writes with a compare-and-swap on the revision read
///   (`Nats-Expected-Last-Subject-Sequence`); a conflict (another node wrote meanwhile) is
///   read and decided again, up to five times. A stored record that cannot be opened (another
///   client secret, altered) counts as none and is overwritten. The whole publish is bounded
///   by `Timing.publishDeadlineSeconds`.
/// - **Following** is a KV watch (libnats `kvStore_Watch`: an ordered consumer over
///   `$KV.sockeye_installations.<client id>.>`, last value per key first, then every change)
///   on the replica's own thread. libnats recreates the consumer where it left off when its
///   heartbeats stop (its server died, the stream's leader moved). On top of that the watch
///   is made anew — every key read again, then `.caughtUp` — after every reconnect of the
///   connection, after any watch error, and every `Timing.resyncSeconds`: a change missed
///   in any way is picked up then. The thread waits on the watch at most
///   `Timing.pollMilliseconds` at a time, so `stop()` ends it promptly.
/// - **Unreadable records** are logged once per key (the key and why, never a value) and
///   handed on as `.unreadable` so that a node having the installation republishes it.
///
/// Threading: publishes and reads run on one serial dispatch queue, the watch on its own
/// thread: neither ever blocks Swift's cooperative pool. `apply` runs on the watch thread.
public final class JetStreamInstallationReplica: InstallationReplica {
    /// The replica's waits.
    public struct Timing: Sendable {
        /// The longest a publish or a fetch takes, retries included.
        public var publishDeadlineSeconds: Double = 5
        /// The longest `stop()` waits for the watch thread.
        public var stopDeadlineSeconds: Double = 2
        /// How often every key is read again though nothing seemed lost.
        public var resyncSeconds: Double = 300
        /// The longest the watch thread waits for a change before looking at the connection.
        public var pollMilliseconds: Int64 = 250

        public init() {}
    }

    private struct State {
        var apply: (@Sendable (InstallationReplicaUpdate) -> Void)?
        var stopped = false
        var done: OneShot?
        /// Keys whose unreadable record was logged (until one opens again).
        var loggedUnreadable: Set<String> = []
    }

    let owner: ClusterInstallations
    let clientID: String
    let sealKey: InstallationSealKey
    let timing: Timing
    /// The first token of the app's keys.
    let prefix: String
    private let queue: DispatchQueue
    private let state = Mutex(State())

    init(owner: ClusterInstallations, clientID: String, sealKey: InstallationSealKey, timing: Timing) {
        self.owner = owner
        self.clientID = clientID
        self.sealKey = sealKey
        self.timing = timing
        prefix = InstallationRecordCodec.prefix(clientID: clientID)
        queue = DispatchQueue(label: "sockeyed.installations.\(prefix)")
    }

    private var logger: Logger { owner.logger }

    /// The key of installation `id`.
    package func key(_ id: String) -> String { InstallationRecordCodec.key(clientID: clientID, installationID: id) }

    // MARK: InstallationReplica

    public func start(apply: @escaping @Sendable (InstallationReplicaUpdate) -> Void) async {
        let done = OneShot()
        let begin = state.withLock { state -> Bool in
            guard state.apply == nil, !state.stopped else { return false }
            state.apply = apply
            state.done = done
            return true
        }
        guard begin else { return }
        let thread = Thread { [self] in
            watch()
            done.fire()
        }
        thread.name = "sockeyed.installations"
        thread.start()
    }

    @discardableResult
    public func publish(_ record: ReplicatedInstallation) async throws(InstallationReplicaError) -> ReplicaPublishOutcome {
        let result = await DeadlineCall.run(seconds: timing.publishDeadlineSeconds, on: queue) { [self] deadline in publishNow(record, until: deadline) }
        guard let result else {
            throw InstallationReplicaError(.unavailable, "the NATS servers did not answer within \(timing.publishDeadlineSeconds) s")
        }
        return try result.get()
    }

    public func fetch(_ id: String) async throws(InstallationReplicaError) -> ReplicatedInstallation? {
        let result = await DeadlineCall.run(seconds: timing.publishDeadlineSeconds, on: queue) { [self] deadline in fetchNow(id, until: deadline) }
        guard let result else {
            throw InstallationReplicaError(.unavailable, "the NATS servers did not answer within \(timing.publishDeadlineSeconds) s")
        }
        return try result.get()
    }

    public func stop() async {
        let done = state.withLock { state -> OneShot? in
            state.stopped = true
            state.apply = nil
            return state.done
        }
        guard let done else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            done.arm(continuation)
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(BoundedTime.milliseconds(timing.stopDeadlineSeconds)))) {
                done.fire()
            }
        }
    }

    // MARK: Blocking (the queue)

    /// One publish: read, decide, compare-and-swap; conflicts decided again, while `deadline`
    /// has not passed.
    package func publishNow(_ record: ReplicatedInstallation, until deadline: ContinuousClock.Instant = .now + .seconds(30))
        -> Result<ReplicaPublishOutcome, InstallationReplicaError> {
        let key = key(record.id)
        let late = InstallationReplicaError(.unavailable, "the NATS servers did not answer in time")
        guard ContinuousClock.now < deadline else { return .failure(late) }
        guard owner.connection.isConnected else { return .failure(InstallationReplicaError(.unavailable, "not connected to a NATS server")) }
        let bucket: LeaseBucket
        do {
            bucket = try owner.bucket()
        } catch {
            return .failure(Self.failure(error))
        }
        for _ in 0..<5 {
            guard ContinuousClock.now < deadline else { return .failure(late) }
            let current: LeaseBucket.Read?
            do {
                current = try bucket.read(key)
            } catch {
                return .failure(Self.failure(error))
            }
            if let value = current?.value,
               case .record(let shared) = InstallationRecordCodec.decode(Array(value.utf8), key: key, sealKey: sealKey),
               !record.supersedes(shared) {
                return .success(.alreadyCurrent(shared))
            }
            let encoded: String
            do {
                encoded = try InstallationRecordCodec.encode(record, key: key, clientID: clientID, node: owner.cluster.node, sealKey: sealKey)
            } catch {
                return .failure(InstallationReplicaError(.failed, error.description))
            }
            do throws(LeaseBucket.WriteError) {
                _ = try bucket.write(key, value: encoded, expecting: current?.revision ?? 0)
                return .success(.stored)
            } catch {
                switch error {
                case .conflict: continue
                case .failed(let failure): return .failure(Self.failure(failure))
                }
            }
        }
        return .failure(InstallationReplicaError(.contended, "installation \(record.id): other nodes kept writing its record"))
    }

    /// One read of installation `id`'s shared record.
    package func fetchNow(_ id: String, until deadline: ContinuousClock.Instant = .now + .seconds(30))
        -> Result<ReplicatedInstallation?, InstallationReplicaError> {
        let key = key(id)
        guard ContinuousClock.now < deadline else { return .failure(InstallationReplicaError(.unavailable, "the NATS servers did not answer in time")) }
        guard owner.connection.isConnected else { return .failure(InstallationReplicaError(.unavailable, "not connected to a NATS server")) }
        do {
            guard let value = try owner.bucket().read(key)?.value else { return .success(nil) }
            switch InstallationRecordCodec.decode(Array(value.utf8), key: key, sealKey: sealKey) {
            case .record(let record): return .success(record)
            case .unreadable(_, let why, _):
                logUnreadable(key: key, why: why)
                return .failure(InstallationReplicaError(.unreadable, "installation \(id)'s shared record cannot be read: \(why)"))
            }
        } catch {
            return .failure(Self.failure(error))
        }
    }

    private static func failure(_ error: JetStreamError) -> InstallationReplicaError {
        InstallationReplicaError(error.kind == .unavailable ? .unavailable : .failed, error.message)
    }

    // MARK: The watch thread

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func deliver(_ update: InstallationReplicaUpdate) {
        // Under no lock: apply may take a while (a store transaction).
        state.withLock { $0.apply }?(update)
    }

    /// Follows the app's keys until `stop()`.
    private func watch() {
        var store: OpaquePointer?
        var watcher: OpaquePointer?
        var reconnects: UInt64 = 0
        var resyncAt = ContinuousClock.now
        var lastProblem: String?
        defer {
            if let watcher { kvWatcher_Destroy(watcher) }
            if let store { kvStore_Destroy(store) }
        }
        while !isStopped {
            guard let current = watcher else {
                switch openWatcher(&store) {
                case .success(let made):
                    watcher = made
                    reconnects = owner.connection.reconnectCount
                    resyncAt = ContinuousClock.now + BoundedTime.duration(timing.resyncSeconds)
                    if lastProblem != nil { logger.notice("following the cluster's installations again") }
                    lastProblem = nil
                case .failure(let error):
                    if lastProblem != error.message {
                        logger.warning("cannot follow the cluster's installations; trying again", metadata: ["error": .string(error.message)])
                    }
                    lastProblem = error.message
                    pause(milliseconds: 500)
                }
                continue
            }
            var entryPointer: OpaquePointer?
            let status = kvWatcher_Next(&entryPointer, current, timing.pollMilliseconds)
            if status == NATS_OK {
                if let entry = entryPointer {
                    handle(entry)
                    kvEntry_Destroy(entry)
                } else {
                    deliver(.caughtUp)
                }
            } else if status == NATS_TIMEOUT {
                // Reconnected (the consumer may be gone with its server), or time for the
                // periodic read: watch anew, every key read again.
                if owner.connection.reconnectCount != reconnects || ContinuousClock.now >= resyncAt {
                    kvWatcher_Destroy(current)
                    watcher = nil
                }
            } else {
                let problem = CNatsConnection.failure(status, jsErrCode(0), doing: "watching the installations").message
                logger.debug("installation watch ended; watching anew", metadata: ["error": .string(problem)])
                kvWatcher_Destroy(current)
                watcher = nil
                pause(milliseconds: 250)
            }
        }
    }

    /// A watch over the app's keys (the bucket made first if missing).
    private func openWatcher(_ store: inout OpaquePointer?) -> Result<OpaquePointer, JetStreamError> {
        guard owner.connection.isConnected else { return .failure(JetStreamError(.unavailable, "not connected to a NATS server")) }
        do {
            _ = try owner.bucket()
        } catch {
            return .failure(error)
        }
        if store == nil {
            var made: OpaquePointer?
            let status = js_KeyValue(&made, owner.connection.jetStreamContext, ClusterInstallations.bucketName)
            guard status == NATS_OK, let made else {
                return .failure(CNatsConnection.failure(status, jsErrCode(0), doing: "opening bucket \(ClusterInstallations.bucketName)"))
            }
            store = made
        }
        var options = kvWatchOptions()
        kvWatchOptions_Init(&options)
        var watcher: OpaquePointer?
        let status = kvStore_Watch(&watcher, store, "\(prefix).>", &options)
        guard status == NATS_OK, let watcher else {
            return .failure(CNatsConnection.failure(status, jsErrCode(0), doing: "watching \(ClusterInstallations.bucketName)"))
        }
        return .success(watcher)
    }

    /// One entry of the watch: a record, or an unreadable one. Deletes and purges are left
    /// alone (sockeyed never deletes a record; a revocation is a record).
    private func handle(_ entry: OpaquePointer) {
        guard kvEntry_Operation(entry) == kvOp_Put, let keyText = kvEntry_Key(entry) else { return }
        let key = String(cString: keyText)
        let length = Int(kvEntry_ValueLen(entry))
        var value: [UInt8] = []
        if length > 0, let bytes = kvEntry_Value(entry) { value = Array(UnsafeRawBufferPointer(start: bytes, count: length)) }
        switch InstallationRecordCodec.decode(value, key: key, sealKey: sealKey) {
        case .record(let record):
            state.withLock { _ = $0.loggedUnreadable.remove(key) }
            deliver(.record(record))
        case .unreadable(let id, let why, _):
            logUnreadable(key: key, why: why)
            if let id { deliver(.unreadable(id: id)) }
        }
    }

    private func logUnreadable(key: String, why: String) {
        guard state.withLock({ $0.loggedUnreadable.insert(key).inserted }) else { return }
        logger.warning("a shared installation record cannot be read (a changed client secret?); a node that has the installation shares it again",
                       metadata: ["key": .string(key), "why": .string(why)])
    }

    /// Sleeps up to `milliseconds`, ending early once stopped.
    private func pause(milliseconds: Int) {
        var left = milliseconds
        while left > 0, !isStopped {
            Thread.sleep(forTimeInterval: 0.05)
            left -= 50
        }
    }
}
