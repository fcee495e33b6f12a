import Foundation
import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// Three nodes sharing an app's nine slots through a real nats-server's key-value stream.
@Suite("ClusterSlots: leases on a real JetStream bucket", .serialized)
struct ClusterSlotsTests {
    private func connect(_ server: NATSServer, _ node: String) throws -> CNatsConnection {
        let connection = try CNatsConnection(cluster: ClusterSettings(servers: [server.url], node: node), answer: { _, _ in })
        _ = connection.waitUntilConnected(seconds: 10)
        return connection
    }

    @Test("a compare-and-swap on a stale revision is a conflict; create refuses a live key and takes a deleted one")
    func bucketSemantics() throws {
        let server = try NATSServer()
        defer { server.stop() }
        let connection = try connect(server, "n1")
        defer { connection.close() }
        let bucket = try LeaseBucket(connection: connection, bucket: "sockeye_leases", replicas: 1)
        #expect(try bucket.read("app.slot.0") == nil)
        let first = try bucket.create("app.slot.0", value: "a")
        #expect(throws: LeaseBucket.WriteError.conflict) { try bucket.create("app.slot.0", value: "b") }
        let second = try bucket.write("app.slot.0", value: "a", expecting: first)
        #expect(throws: LeaseBucket.WriteError.conflict) { try bucket.write("app.slot.0", value: "b", expecting: first) }
        #expect(try bucket.read("app.slot.0") == LeaseBucket.Read(value: "a", revision: second))
        let deleted = try bucket.delete("app.slot.0", expecting: second)
        #expect(try bucket.read("app.slot.0") == LeaseBucket.Read(value: nil, revision: deleted))
        _ = try bucket.create("app.slot.0", value: "b")
        #expect(try bucket.read("app.slot.0")?.value == "b")
    }

    @Test("three nodes share nine slots; a node that stops stepping is replaced after the lease, and closes its slots on waking")
    func threeNodes() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        // Long enough that a test machine busy with other work does not make a node miss
        // its renewals while it is meant to hold its slots.
        let ttl: Duration = .seconds(4)
        var nodes: [(name: String, slots: ClusterSlots, connection: CNatsConnection)] = []
        for (name, wanted) in [("a", 3), ("b", 4), ("c", 4)] {
            let connection = try connect(server, name)
            let bucket = try LeaseBucket(connection: connection, bucket: "sockeye_leases", replicas: 1)
            nodes.append((name, ClusterSlots(app: "demo", node: name, slots: 9, wanted: wanted, ttl: ttl, bucket: bucket), connection))
        }
        defer { for node in nodes { node.connection.close() } }
        var open: [String: Set<Int>] = ["a": [], "b": [], "c": []]
        func step(_ index: Int) {
            for action in nodes[index].slots.step() {
                switch action {
                case .open(let slot): open[nodes[index].name]!.insert(slot)
                case .close(let slot): open[nodes[index].name]!.remove(slot)
                default: break
                }
            }
        }
        func overlap(excluding stalled: String? = nil) -> Bool {
            let all = open.filter { $0.key != stalled }.values.flatMap { $0 }
            return all.count != Set(all).count
        }
        // a first, so that it gets its three.
        for _ in 0..<3 { step(0) }
        for round in 0..<12 {
            for index in nodes.indices { step(index) }
            #expect(!overlap(), "round \(round): \(open)")
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(open["a"]!.count == 3 && open["b"]!.count + open["c"]!.count == 6, "\(open)")
        let heldByA = open["a"]!

        // a stalls for two and a half lease times; b and c take its slots over.
        for round in 0..<40 {
            for index in 1..<3 { step(index) }
            #expect(!overlap(excluding: "a"), "stalled round \(round): \(open)")
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(open["b"]!.count == 4 && open["c"]!.count == 4, "\(open)")
        // Waking, a closes every slot it had before doing anything else.
        let waking = nodes[0].slots.step()
        let closes = waking.prefix { if case .close = $0 { true } else { false } }.compactMap(\.slot)
        #expect(Set(closes) == heldByA, "\(waking)")
        for action in waking {
            if case .close(let slot) = action { open["a"]!.remove(slot) }
            if case .open(let slot) = action { open["a"]!.insert(slot) }
        }
        for _ in 0..<4 {
            for index in nodes.indices { step(index) }
            #expect(!overlap())
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(open.values.map(\.count).reduce(0, +) == 9, "\(open)")
    }
}
