import Foundation
import Logging
import SockeyeCore
import SockeyeSinkKit
import Synchronization
import Testing

@testable import SockeyeJetStream

/// Two nodes' shares of one app on a real nats-server: what each grants its pool.
@Suite("ClusterShare: an app's connections split between nodes", .serialized)
struct ClusterShareTests {
    /// What a share granted, and the pool's state as the test plays it.
    private final class Pool: Sendable {
        let granted = Mutex<ConnectionLimit?>(nil)
        let view = Mutex(PoolView(live: 0, replacing: 0))
        /// Every grant with when it came (on the share's thread: a busy test pool does not
        /// delay the record).
        let history = Mutex<[(at: ContinuousClock.Instant, limit: ConnectionLimit)]>([])

        func start(_ share: ClusterShare, wanted: Int) {
            share.start(wanted: wanted, pool: { self.view.withLock { $0 } }, grant: { limit in
                self.history.withLock { $0.append((.now, limit)) }
                self.granted.withLock { $0 = limit }
                // The pool opens what it may, at once.
                self.view.withLock { $0.live = limit.connections }
            })
        }

        var limit: ConnectionLimit? { granted.withLock { $0 } }
    }

    private func leases(_ server: NATSServer, node: String, ttl: Double, maxConnections: Int = 10) throws -> ClusterLeases {
        var cluster = ClusterSettings(servers: [server.url], node: node)
        cluster.leaseTimeSeconds = ttl
        cluster.maxConnections = maxConnections
        return try ClusterLeases(cluster: cluster, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// Nodes a and b, each sharing the app "demo" for a pool that wants `wanted` connections
    /// (started). Close the leases at the end, after the shares stopped.
    private struct TwoNodes {
        let leases: (a: ClusterLeases, b: ClusterLeases)
        let shares: (a: ClusterShare, b: ClusterShare)
        let pools: (a: Pool, b: Pool)

        func close() {
            leases.a.close()
            leases.b.close()
        }
    }

    private func twoNodes(_ server: NATSServer, ttl: Double, wanted: Int, maxConnections: Int = 10) throws -> TwoNodes {
        let a = try leases(server, node: "a", ttl: ttl, maxConnections: maxConnections)
        let b = try leases(server, node: "b", ttl: ttl, maxConnections: maxConnections)
        let nodes = TwoNodes(leases: (a, b), shares: (a.share(app: "demo"), b.share(app: "demo")), pools: (Pool(), Pool()))
        nodes.pools.a.start(nodes.shares.a, wanted: wanted)
        nodes.pools.b.start(nodes.shares.b, wanted: wanted)
        return nodes
    }

    /// Waits (bounded) until `condition` holds; returns whether it did.
    private func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test("two nodes split six connections 3 + 3; when one stops the other takes all six; a spare only while replacing")
    func splitTakeOverSpare() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let ttl = 2.0
        let nodes = try twoNodes(server, ttl: ttl, wanted: 6)
        defer { nodes.close() }
        let (shareA, shareB) = nodes.shares
        let (poolA, poolB) = nodes.pools
        #expect(await eventually(within: 15) { poolA.limit?.connections == 3 && poolB.limit?.connections == 3 },
                "\(String(describing: poolA.limit)) \(String(describing: poolB.limit))")
        #expect(await eventually(within: 5) { shareA.snapshot.slotsByNode == ["a": 3, "b": 3] }, "\(shareA.snapshot.slotsByNode)")
        let leader = shareA.snapshot.leader
        #expect(leader == "a" || leader == "b")

        // A connection being recycled on a: it gets the spare, then gives it back.
        poolA.view.withLock { $0.replacing = 1 }
        #expect(await eventually(within: 5) { poolA.limit?.spare == 1 })
        #expect(shareA.snapshot.holdsSpare)
        poolA.view.withLock { $0.replacing = 0 }
        #expect(await eventually(within: 5) { poolA.limit?.spare == 0 })

        // b stops (its leases are given back): a takes every connection.
        await shareB.stop()
        #expect(await eventually(within: 4 * ttl + 5) { poolA.limit?.connections == 6 }, "\(String(describing: poolA.limit))")
        await shareA.stop()
    }

    @Test("a node whose leases run out without it renewing them closes its connections; the other takes them over")
    func stalledNodeIsFencedAndReplaced() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let ttl = 2.0
        // Four slots (five connections, one the spare), two each: no free slot is left, so b
        // can grow only by taking a's over.
        let nodes = try twoNodes(server, ttl: ttl, wanted: 4, maxConnections: 5)
        defer { nodes.close() }
        let (shareA, shareB) = nodes.shares
        let (poolA, poolB) = nodes.pools
        #expect(await eventually(within: 15) { poolA.limit?.connections == 2 && poolB.limit?.connections == 2 })
        // a's steps stop (its servers no longer answer it): it renews nothing. Its own clock
        // closes its connections before b may take the slots; then b holds all four.
        shareA.suspendSteps(true)
        #expect(await eventually(within: 4 * ttl + 10) { poolA.limit?.connections == 0 && poolB.limit?.connections == 4 },
                "a grants \(String(describing: poolA.limit)), b \(String(describing: poolB.limit))")
        let fenced = try #require(poolA.history.withLock { $0.first { $0.limit.connections == 0 }?.at })
        let taken = try #require(poolB.history.withLock { $0.first { $0.limit.connections > 2 }?.at })
        #expect(fenced < taken, "b took a's slots before a closed them")
        await shareA.stop()
        await shareB.stop()
    }

    @Test("a back-off told to one node holds the other's pool at what is live")
    func sharedBackOff() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let nodes = try twoNodes(server, ttl: 2, wanted: 4)
        defer { nodes.close() }
        let (shareA, shareB) = nodes.shares
        let (poolA, poolB) = nodes.pools
        #expect(await eventually(within: 15) { poolA.limit?.connections == 2 && poolB.limit?.connections == 2 })
        // b's pool has lost a connection it may reopen, when Slack tells a to wait.
        poolB.view.withLock { $0.live = 1 }
        shareA.backOff(for: .seconds(4))
        #expect(await eventually(within: 3) { poolB.limit?.connections == 1 }, "\(String(describing: poolB.limit))")
        #expect(shareB.snapshot.openAfter != nil)
        // After the wait, b may open it again.
        #expect(await eventually(within: 8) { poolB.limit?.connections == 2 })
        await shareA.stop()
        await shareB.stop()
    }

    @Test("an even split, rounded up")
    func evenSplit() {
        #expect(ClusterShare.share(of: 9, among: 3) == 3)
        #expect(ClusterShare.share(of: 9, among: 2) == 5)
        #expect(ClusterShare.share(of: 2, among: 3) == 1)
        #expect(ClusterShare.share(of: 9, among: 0) == 9)
        #expect(ClusterShare.share(of: -1, among: 2) == 0)
    }
}
