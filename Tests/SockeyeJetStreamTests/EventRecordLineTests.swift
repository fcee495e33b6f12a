import SockeyeSinkKit
import Testing

/// A record read back from its own line (what a stream's consumer gets) has the same fields.
@Suite("EventRecord(line:): the normalized line read back")
struct EventRecordLineTests {
    @Test("every field survives, the line is kept byte for byte")
    func roundTrip() throws {
        let original = eventRecord(app: "ops", envelopeID: "env-1", event: "app_mention", eventID: "Ev9")
        let read = try EventRecord(line: original.line)
        #expect(read.line == original.line)
        #expect(read.app == "ops" && read.delivery == .socketMode)
        #expect(read.envelopeType == "events_api" && read.envelopeID == "env-1")
        #expect(read.eventType == "app_mention" && read.eventID == "Ev9")
        #expect(read.team == "T1" && read.channel == "C1" && read.user == "U1")
        #expect(read.apiAppID == "A0TESTAPP")
        #expect(read.retryAttempt == 0 && read.retryReason == nil)
        #expect(read.payloadBytes == original.payloadBytes)
    }

    @Test("a slash command's line, with nulls where it has no event")
    func slashCommand() throws {
        let original = eventRecord(app: "ops", envelopeID: "env-2", type: "slash_commands", command: "/deploy")
        let read = try EventRecord(line: original.line)
        #expect(read.eventType == "/deploy" && read.eventID == nil)
    }

    @Test("what is not a line is refused with the reason")
    func refusals() {
        for (text, reason) in [("[]", "not a JSON object"), ("{\"app\":\"a\"}", "payload"), ("not json", "not a JSON object"),
                               (#"{"app":1,"delivery":"http","envelope_type":"e","envelope_id":"x","payload":{}}"#, "app"),
                               (#"{"app":"a","delivery":"pigeon","envelope_type":"e","envelope_id":"x","payload":{}}"#, "delivery")] {
            #expect(throws: EventRecord.LineError.self) { try EventRecord(line: Array(text.utf8)) }
            do {
                _ = try EventRecord(line: Array(text.utf8))
            } catch {
                #expect(error.description.contains(reason), "\(text): \(error)")
            }
        }
    }
}
