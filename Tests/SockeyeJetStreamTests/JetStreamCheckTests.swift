import Foundation
import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// `sockeyed check` for a jetstream sink, against a real nats-server: nothing is changed.
@Suite("JetStreamCheck: the servers and the stream, before running", .serialized)
struct JetStreamCheckTests {
    @Test("a missing stream is reported as to be created, and is not created")
    func missingStream() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let cluster = ClusterSettings(servers: [server.url], node: "checker")
        let findings = await JetStreamCheck.run(settings: JetStreamSettings(stream: "SLACK"), cluster: cluster)
        #expect(findings.allSatisfy { $0.ok }, "\(findings)")
        #expect(findings.last?.text.contains("does not exist yet") == true, "\(findings)")
        let inspector = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        defer { inspector.close() }
        #expect(inspector.waitUntilConnected(seconds: 10))
        #expect(try inspector.fetchStream("SLACK") == nil)
    }

    @Test("a memory stream of that name is something to fix; a file one with other limits is fine")
    func existingStreams() async throws {
        let server = try NATSServer()
        defer { server.stop() }
        let cluster = ClusterSettings(servers: [server.url], node: "checker")
        let maker = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        defer { maker.close() }
        #expect(maker.waitUntilConnected(seconds: 10))
        var memory = StreamSpec.wanted(by: JetStreamSettings(stream: "MEM"), serverCount: 1)
        memory.fileStorage = false
        try maker.createStream(memory)
        var fileSettings = JetStreamSettings(stream: "FILE")
        fileSettings.subjectPrefix = "other"
        var other = StreamSpec.wanted(by: fileSettings, serverCount: 1)
        other.duplicateWindowNanoseconds = 60_000_000_000
        try maker.createStream(other)

        let memoryFindings = await JetStreamCheck.run(settings: JetStreamSettings(stream: "MEM"), cluster: cluster)
        #expect(memoryFindings.last?.ok == false && memoryFindings.last?.text.contains("memory") == true, "\(memoryFindings)")
        let fileFindings = await JetStreamCheck.run(settings: fileSettings, cluster: cluster)
        #expect(fileFindings.allSatisfy { $0.ok }, "\(fileFindings)")
        #expect(fileFindings.last?.text.contains("duplicate_window") == true, "\(fileFindings)")
        #expect(try maker.fetchStream("FILE")?.spec.duplicateWindowNanoseconds == 60_000_000_000)
    }

    @Test("no server: something to fix, within the request timeout, without the URL's password")
    func noServer() async throws {
        let placeholder = try NATSServer()
        let port = placeholder.port
        placeholder.stop()
        var cluster = ClusterSettings(servers: ["nats://user:s3cret@127.0.0.1:\(port)"], node: "checker")
        cluster.requestTimeoutSeconds = 0.5
        let started = ContinuousClock.now
        let findings = await JetStreamCheck.run(settings: JetStreamSettings(stream: "SLACK"), cluster: cluster)
        // Bounded by the 0.5 s request timeout (generously: a busy test machine stretches it).
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(findings.count == 1 && findings[0].ok == false, "\(findings)")
        #expect(findings[0].text.contains("127.0.0.1:\(port)"))
        #expect(!findings[0].text.contains("s3cret"))
    }
}
