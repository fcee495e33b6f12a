import SockeyeSinkKit
import Testing

@testable import SockeyeJetStream

/// Subjects and message ids: every app name and event type gives one literal subject, and
/// the same event always gives the same id.
@Suite("JetStreamNaming: subjects and message ids")
struct JetStreamNamingTests {
    @Test("an event's subject is prefix.app.envelope_type.event_type")
    func subjectOfAnEvent() {
        let record = eventRecord(app: "support-bot", envelopeID: "e1", event: "message")
        #expect(JetStreamNaming.subject(prefix: "slack", record: record) == "slack.support-bot.events_api.message")
        #expect(JetStreamNaming.subject(prefix: "acme.slack", record: record) == "acme.slack.support-bot.events_api.message")
    }

    @Test("a slash command keeps its slash; an event with no type gets _")
    func commandsAndMissingTypes() {
        let command = eventRecord(envelopeID: "e2", type: "slash_commands", command: "/deploy")
        #expect(JetStreamNaming.subject(prefix: "slack", record: command) == "slack.app.slash_commands./deploy")
        let untyped = eventRecord(envelopeID: "e3", event: nil)
        #expect(JetStreamNaming.subject(prefix: "slack", record: untyped) == "slack.app.events_api._")
    }

    @Test("dots, wildcards, spaces and non-ASCII bytes in a token become _")
    func unsafeBytesAreReplaced() {
        #expect(JetStreamNaming.token("my app.v2*>") == "my_app_v2__")
        #expect(JetStreamNaming.token("é") == "__")
        #expect(JetStreamNaming.token("") == "_")
        #expect(JetStreamNaming.token(String(repeating: "x", count: 500)).utf8.count == JetStreamNaming.maxTokenBytes)
        let record = eventRecord(app: "a.b", envelopeID: "e4", event: "x>y")
        #expect(JetStreamNaming.subject(prefix: "slack", record: record) == "slack.a_b.events_api.x_y")
    }

    @Test("the id is api_app_id:event_id, else the envelope id, else the app's name")
    func messageIDs() {
        #expect(JetStreamNaming.messageID(eventRecord(envelopeID: "env-1", eventID: "Ev1")) == "A0TESTAPP:Ev1")
        #expect(JetStreamNaming.messageID(eventRecord(envelopeID: "env-2", eventID: nil)) == "A0TESTAPP:env-2")
        #expect(JetStreamNaming.messageID(eventRecord(app: "ops", envelopeID: "env-3", eventID: "Ev3", apiAppID: nil)) == "ops:Ev3")
        // Two deliveries of one event (a retry has a new envelope id) share the id.
        let first = eventRecord(envelopeID: "env-4", eventID: "Ev4")
        let retry = eventRecord(envelopeID: "env-5", eventID: "Ev4")
        #expect(JetStreamNaming.messageID(first) == JetStreamNaming.messageID(retry))
    }

    @Test("stream names and subject prefixes are checked")
    func settingsValidation() {
        #expect(JetStreamSettings.streamNameProblem("SLACK_EVENTS-1") == nil)
        #expect(JetStreamSettings.streamNameProblem("") != nil)
        #expect(JetStreamSettings.streamNameProblem("a.b") != nil)
        #expect(JetStreamSettings.streamNameProblem(String(repeating: "a", count: 65)) != nil)
        #expect(JetStreamSettings.subjectPrefixProblem("slack") == nil)
        #expect(JetStreamSettings.subjectPrefixProblem("acme.slack") == nil)
        #expect(JetStreamSettings.subjectPrefixProblem("slack.") != nil)
        #expect(JetStreamSettings.subjectPrefixProblem(".slack") != nil)
        #expect(JetStreamSettings.subjectPrefixProblem("a..b") != nil)
        #expect(JetStreamSettings.subjectPrefixProblem("slack.*") != nil)
        #expect(JetStreamSettings.subjectPrefixProblem("sl ack") != nil)
    }
}
