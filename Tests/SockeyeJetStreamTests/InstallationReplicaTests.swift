import Foundation
import Logging
import SockeyeInstallations
import SockeyeSinkKit
import Synchronization
import Testing

@testable import SockeyeJetStream

/// Lines logged by a test's nodes, to check that none holds a token.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    var all: [String] { lines.withLock { $0 } }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label, factory: { _ in Handler(log: self) })
        logger.logLevel = .debug
        return logger
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            log.lines.withLock { $0.append("\(event.level) \(event.message) \(merged)") }
        }
    }
}

/// One node of an app installed by OAuth: its own store file and directory, its replica
/// over its own NATS connection, and the sync between them running.
final class ReplicaNode: Sendable {
    let name: String
    let path: String
    let store: InstallationStore
    let directory: InstallationDirectory
    let connection: CNatsConnection
    let sync: InstallationSync
    private let task: Mutex<Task<Void, Never>?>

    init(_ name: String, server: NATSServer, path: String? = nil, secret: String = ReplicaFixture.secret, log: CapturedLog,
         timing: JetStreamInstallationReplica.Timing = ReplicaNode.timing) throws {
        self.name = name
        self.path = path ?? (NSTemporaryDirectory() + "sockeye-replica-\(name)-\(UUID().uuidString.prefix(8)).db")
        store = try InstallationStore(path: self.path, clientID: ReplicaFixture.clientID)
        directory = InstallationDirectory(try store.activeInstallations())
        let cluster = ClusterSettings(servers: [server.url], node: name)
        connection = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        _ = connection.waitUntilConnected(seconds: 10)
        let owner = ClusterInstallations(connection: connection, cluster: cluster, logger: log.logger(name))
        let replica = owner.replica(clientID: ReplicaFixture.clientID, clientSecret: secret, timing: timing)
        sync = InstallationSync(app: "multi", store: store, directory: directory, replica: replica, logger: log.logger(name), reconcileSeconds: 1)
        task = Mutex(nil)
    }

    static var timing: JetStreamInstallationReplica.Timing {
        var timing = JetStreamInstallationReplica.Timing()
        timing.publishDeadlineSeconds = 3
        return timing
    }

    /// Starts the sync and waits until it has read the cluster's records.
    func start() async throws {
        let sync = self.sync
        task.withLock { $0 = Task { await sync.run() } }
        #expect(await sync.waitUntilCaughtUp(seconds: 60), "\(name) did not catch up")
    }

    func stop() async {
        let running = task.withLock { $0.take() }
        running?.cancel()
        await running?.value
        connection.close()
        store.close()
    }
}

/// Waits up to `seconds` for `condition`; whether it held.
func eventually(_ seconds: Double = 5, _ condition: () throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try condition()
}

@Suite("installation replica on JetStream: two nodes, separate stores, one nats-server", .serialized)
struct InstallationReplicaTests {
    @Test("an install on A reaches B's store and directory; B's revocation reaches A; A's rotation replaces B's tokens; no token on NATS or in a log")
    func installRevokeRotate() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let log = CapturedLog()
        let a = try ReplicaNode("node-a", server: server, log: log)
        let b = try ReplicaNode("node-b", server: server, log: log)
        try await a.start()
        try await b.start()
        var secrets: [String] = []

        // Install on A.
        let first = ReplicaFixture.install("T1", generation: 1, at: Int64(Date().timeIntervalSince1970) - 10)
        secrets += ReplicaFixture.secrets(of: first)
        try a.store.save(first)
        a.directory.replace(with: try a.store.activeInstallations())
        a.sync.changed("T1")
        #expect(await eventually(20) { b.directory.isActive("T1") }, "the install did not reach B's directory")
        #expect(try b.store.installation(id: "T1")?.bot?.token == first.bot?.token)
        #expect(b.directory.authorize(EventTenant(enterpriseID: nil, teamID: "T1", isEnterpriseInstall: false))?.installationID == "T1")

        // A rotation on A (a newer second) replaces B's tokens.
        try await Task.sleep(for: .milliseconds(1100))
        let rotated = ReplicaFixture.install("T1", generation: 2)
        secrets += ReplicaFixture.secrets(of: rotated)
        let result = try a.store.rotate(id: "T1", bot: rotated.bot, user: rotated.user, expectedBotRefreshToken: first.bot?.refreshToken,
                                        expectedUserRefreshToken: first.user?.refreshToken)
        #expect(result == .stored)
        a.sync.changed("T1")
        #expect(try await eventually(20) { try b.store.installation(id: "T1")?.bot?.token == rotated.bot?.token })
        #expect(try b.store.installation(id: "T1")?.user?.refreshToken == rotated.user?.refreshToken)

        // A revocation on B reaches A.
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try b.store.revoke(id: "T1", reason: "app_uninstalled"))
        b.directory.replace(with: try b.store.activeInstallations())
        b.sync.changed("T1")
        #expect(a.directory.isActive("T1"))
        #expect(await eventually(20) { !a.directory.isActive("T1") })
        #expect(try a.store.installation(id: "T1") == nil)
        #expect(try a.store.summary(id: "T1")?.reason == "app_uninstalled")
        // A's older install, published again, does not bring it back.
        #expect(try await b.sync.replica.publish(.active(rotated, updatedAt: 1_700_000_000)) != .stored)
        try await Task.sleep(for: .milliseconds(300))
        #expect(!a.directory.isActive("T1") && !b.directory.isActive("T1"))

        await a.stop()
        await b.stop()
        try expectNoSecrets(secrets, server: server, log: log)
    }

    @Test("a node restarted catches up with what changed while it was away, and shares what it had that the cluster lacks")
    func restartCatchesUp() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let log = CapturedLog()
        let a = try ReplicaNode("node-a", server: server, log: log)
        var b = try ReplicaNode("node-b", server: server, log: log)
        try await a.start()
        try await b.start()
        try a.store.save(ReplicaFixture.install("T1"))
        a.sync.changed("T1")
        #expect(await eventually(20) { b.directory.isActive("T1") })
        let bPath = b.path
        await b.stop()

        // While B is away: T2 installed, T1 revoked on A.
        try a.store.save(ReplicaFixture.install("T2"))
        a.sync.changed("T2")
        try await Task.sleep(for: .milliseconds(1100))
        #expect(try a.store.revoke(id: "T1", reason: "tokens_revoked"))
        a.directory.replace(with: try a.store.activeInstallations())
        a.sync.changed("T1")
        // And B's store gains an installation the cluster never saw (installed while its
        // servers were away).
        let offline = try InstallationStore(path: bPath, clientID: ReplicaFixture.clientID)
        try offline.save(ReplicaFixture.install("T3"))
        offline.close()
        try await Task.sleep(for: .milliseconds(500))

        b = try ReplicaNode("node-b", server: server, path: bPath, log: log)
        try await b.start()
        #expect(b.directory.isActive("T2"))
        #expect(!b.directory.isActive("T1"))
        #expect(b.directory.isActive("T3"))
        #expect(try b.store.summary(id: "T1")?.reason == "tokens_revoked")
        #expect(await eventually(20) { a.directory.isActive("T3") }, "B's own installation did not reach A")
        await a.stop()
        await b.stop()
    }

    @Test("after the server restarts (same store), the watch resumes: a change made afterwards still reaches the other node")
    func serverRestart() async throws {
        let server = try NATSServer()
        let log = CapturedLog()
        let a = try ReplicaNode("node-a", server: server, log: log)
        let b = try ReplicaNode("node-b", server: server, log: log)
        try await a.start()
        try await b.start()
        try a.store.save(ReplicaFixture.install("T1"))
        a.sync.changed("T1")
        #expect(await eventually(20) { b.directory.isActive("T1") })
        let catchUps = b.sync.catchUps

        let (port, directory) = (server.port, server.storeDirectory)
        server.stop()
        try await Task.sleep(for: .milliseconds(500))
        let again = try NATSServer(port: port, store: directory)
        defer { again.stop() }
        #expect(a.connection.waitUntilConnected(seconds: 10) && b.connection.waitUntilConnected(seconds: 10))
        // B read every key again after reconnecting.
        #expect(await eventually(10) { b.sync.catchUps > catchUps }, "B did not watch anew after the reconnect")

        try await Task.sleep(for: .milliseconds(1100))
        try a.store.save(ReplicaFixture.install("T2"))
        a.sync.changed("T2")
        #expect(await eventually(10) { b.directory.isActive("T2") }, "a change after the restart did not reach B")
        #expect(b.directory.isActive("T1"))
        await a.stop()
        await b.stop()
    }

    @Test("a record sealed with another client secret is logged once and republished by a node that has the installation")
    func changedSecret() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let log = CapturedLog()
        let old = try ReplicaNode("node-old", server: server, secret: "oldsecret", log: log)
        try await old.start()
        try old.store.save(ReplicaFixture.install("T1"))
        old.sync.changed("T1")
        let key = InstallationRecordCodec.key(clientID: ReplicaFixture.clientID, installationID: "T1")
        let bucket = try LeaseBucket(connection: old.connection, bucket: ClusterInstallations.bucketName, replicas: 1)
        let oldKey = InstallationSealKey(clientSecret: "oldsecret")
        #expect(try await eventually(20) { try bucket.read(key)?.value?.contains(oldKey.id) == true })
        await old.stop()

        // A node with the new secret and its own copy of T1 republishes it sealed with its key.
        let path = NSTemporaryDirectory() + "sockeye-replica-new-\(UUID().uuidString.prefix(8)).db"
        let seed = try InstallationStore(path: path, clientID: ReplicaFixture.clientID)
        try seed.save(ReplicaFixture.install("T1"), now: 1_700_000_000)
        seed.close()
        let new = try ReplicaNode("node-new", server: server, path: path, secret: "newsecret", log: log)
        try await new.start()
        let newKey = InstallationSealKey(clientSecret: "newsecret")
        let reader = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: "reader"), answer: { _, _ in })
        defer { reader.close() }
        _ = reader.waitUntilConnected(seconds: 10)
        let readBucket = try LeaseBucket(connection: reader, bucket: ClusterInstallations.bucketName, replicas: 1)
        #expect(try await eventually(20) {
            guard let value = try readBucket.read(key)?.value else { return false }
            guard case .record = InstallationRecordCodec.decode(Array(value.utf8), key: key, sealKey: newKey) else { return false }
            return value.contains(newKey.id)
        }, "the node with the new secret did not republish T1")
        #expect(new.directory.isActive("T1"))
        let warnings = log.all.filter { $0.contains("cannot be read") }
        #expect(warnings.count == 1, "\(warnings)")
        await new.stop()
    }

    @Test("the rotation lock catches the installation up once taken and publishes it before giving it back")
    func rotationLockSyncs() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let log = CapturedLog()
        let a = try ReplicaNode("node-a", server: server, log: log)
        try await a.start()
        let first = ReplicaFixture.install("T1", generation: 1, at: 1_700_000_000)
        try a.store.save(first, now: 1_700_000_000)
        a.sync.changed("T1")
        // B's sync is not running: only the lock brings it the record.
        let b = try ReplicaNode("node-b", server: server, log: log)
        #expect(try await eventually(20) { try a.store.replicatedRecord(id: "T1") != nil })
        try await Task.sleep(for: .milliseconds(300))
        let lock = b.sync.rotationLock(over: nil)
        #expect(await lock.acquire("multi.rotate.T1", leaseSeconds: 60))
        #expect(try b.store.installation(id: "T1")?.bot?.token == first.bot?.token)
        let rotated = ReplicaFixture.install("T1", generation: 2)
        #expect(try b.store.rotate(id: "T1", bot: rotated.bot, user: nil, expectedBotRefreshToken: first.bot?.refreshToken,
                                   expectedUserRefreshToken: nil, now: 1_700_000_100) == .stored)
        await lock.release("multi.rotate.T1")
        #expect(try await eventually(20) { try a.store.installation(id: "T1")?.bot?.token == rotated.bot?.token })
        await a.stop()
        await b.stop()
    }

    /// No token text in any message of the bucket's stream, in the server's files, or in a log line.
    private func expectNoSecrets(_ secrets: [String], server: NATSServer, log: CapturedLog) throws {
        let reader = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: "reader"), answer: { _, _ in })
        defer { reader.close() }
        _ = reader.waitUntilConnected(seconds: 10)
        let stream = "KV_\(ClusterInstallations.bucketName)"
        let snapshot = try #require(try reader.fetchStream(stream))
        #expect(snapshot.lastSequence >= 3)
        var read = 0
        for sequence in 1...max(1, snapshot.lastSequence) {
            guard let message = try reader.message(of: stream, at: sequence, headers: []) else { continue }
            read += 1
            let text = String(decoding: message.data, as: UTF8.self)
            #expect(text.contains("\"id\":\"T1\""))
            for secret in secrets { #expect(!text.contains(secret), "message \(sequence) holds a token") }
        }
        #expect(read >= 1)
        var files: [String] = []
        if let walker = FileManager.default.enumerator(atPath: server.storeDirectory.path) {
            for case let file as String in walker { files.append(server.storeDirectory.path + "/" + file) }
        }
        var scanned = 0
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            scanned += data.count
            for secret in secrets { #expect(data.range(of: Data(secret.utf8)) == nil, "\(file) holds a token") }
        }
        #expect(scanned > 0)
        for line in log.all {
            for secret in secrets { #expect(!line.contains(secret), "a log line holds a token: \(line)") }
        }
    }
}

@Suite("the rotation lock on the lease bucket", .serialized)
struct LeaseInstallationLockTests {
    @Test("of two nodes one holds it; only the holder releases; an expired lease is taken over and its old holder cannot delete it")
    func twoHolders() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let connection = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: "t"), answer: { _, _ in })
        defer { connection.close() }
        _ = connection.waitUntilConnected(seconds: 10)
        let bucket = try LeaseBucket(connection: connection, bucket: ClusterLeases.bucketName, replicas: 1)
        let a = LeaseInstallationLock(app: "help.desk", node: "node-a") { bucket }
        let b = LeaseInstallationLock(app: "help.desk", node: "node-b") { bucket }
        let key = "help.desk.rotate.T1"
        #expect(a.bucketKey(key) == "help_desk.rotate.T1")

        // Together, many times over: exactly one wins each round.
        for round in 0..<5 {
            async let takenA = a.acquire(key, leaseSeconds: 60)
            async let takenB = b.acquire(key, leaseSeconds: 60)
            let (x, y) = await (takenA, takenB)
            #expect(x != y, "round \(round): a \(x), b \(y)")
            await a.release(key)
            await b.release(key)
            #expect(try bucket.read(a.bucketKey(key))?.value == nil)
        }

        #expect(await a.acquire(key, leaseSeconds: 60))
        #expect(await b.acquire(key, leaseSeconds: 60) == false)
        await b.release(key)  // not its lease: nothing happens
        #expect(try bucket.read(a.bucketKey(key))?.value?.contains("node-a") == true)
        await a.release(key)
        // A short lease (long enough leases above: a loaded machine must not expire them
        // between two steps) runs out: b takes it over; a's late release leaves it to b.
        #expect(await a.acquire(key, leaseSeconds: 1))
        try await Task.sleep(for: .milliseconds(1200))
        #expect(await b.acquire(key, leaseSeconds: 60))
        await a.release(key)
        #expect(try bucket.read(a.bucketKey(key))?.value?.contains("node-b") == true)
        #expect(await a.acquire(key, leaseSeconds: 60) == false)
        await b.release(key)
        #expect(await a.acquire(key, leaseSeconds: 60))
        await a.release(key)
    }

    @Test("servers that do not answer: acquire says no within its deadline")
    func unreachable() async throws {
        let server = try NATSServer()
        let connection = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: "t"), answer: { _, _ in })
        defer { connection.close() }
        _ = connection.waitUntilConnected(seconds: 10)
        let bucket = try LeaseBucket(connection: connection, bucket: ClusterLeases.bucketName, replicas: 1)
        let lock = LeaseInstallationLock(app: "app", node: "node-a", deadlineSeconds: 1) { bucket }
        kill(server.pid, SIGSTOP)
        defer {
            kill(server.pid, SIGCONT)
            server.stop()
        }
        let started = ContinuousClock.now
        #expect(await lock.acquire("app.rotate.T1", leaseSeconds: 60) == false)
        // Bounded by its deadline, not by the stopped server (generous: a loaded machine).
        #expect(ContinuousClock.now - started < .seconds(15))
    }
}
