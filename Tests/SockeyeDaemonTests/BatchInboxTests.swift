import Foundation
import SockeyeSinkKit
import Testing

@testable import SockeyeDaemon

/// The daemon's batch inbox is bounded for the Socket Mode reader: it waits at the bound, so
/// the client's stream fills and the client stops reading its connections.
@Suite("BatchInbox: the Socket Mode reader waits at the bound")
struct BatchInboxTests {
    private func item() -> Inbound {
        let parts = EventRecord.Parts(
            envelopeType: "events_api", envelopeID: "env", eventType: nil, payloadType: nil, team: "T1",
            eventID: "Ev1", retryAttempt: 0, retryReason: nil, acceptsResponsePayload: false)
        let payload = Array(#"{"type":"event_callback"}"#.utf8)
        let record = payload.withUnsafeBytes {
            EventRecord(app: "a", delivery: .http, parts: parts, payload: $0, receivedAtMilliseconds: 0, receivedAt: "")
        }
        return .http(record, HTTPReply { _ in })
    }

    @Test("putWaiting waits while the inbox holds its bound, and goes on once the loop takes")
    func waitsAtBound() async throws {
        let inbox = BatchInbox(socketLimit: 3)
        #expect(await inbox.putWaiting([item(), item(), item()]))
        let reader = Task { await inbox.putWaiting([item()]) }
        // Held: nothing was taken, so its batch is not queued. (A bounded look: had the
        // reader gone on, the count would be 4 by now.)
        try await Task.sleep(for: .milliseconds(300))
        #expect(inbox.count == 3)
        let batch = try await inbox.takeAll()
        #expect(batch?.count == 3)
        #expect(await reader.value)
        #expect(inbox.count == 1)
        // Finishing releases a waiting reader too (its batch is refused).
        _ = await inbox.putWaiting([item(), item()])
        let late = Task { await inbox.putWaiting([item()]) }
        inbox.finish(nil)
        #expect(await late.value == false)
    }
}
