import SockeyeSinkKit
import Testing

@testable import SockeyeDaemon

/// The batch planner's decisions, without sockets, files or a clock: which sink gets which
/// events, how each envelope is answered, which claims are kept or released.
@Suite("BatchPlanner: routing, fan-out, refusals, duplicates")
struct BatchPlannerTests {
    /// An event record as the ingress or the client would make it.
    private func record(_ envelopeID: String, type envelopeType: String = "events_api", event eventType: String? = "message",
                        team: String? = "T1", channel: String? = "C1", user: String? = "U1", botID: String? = nil,
                        eventID: String? = nil, delivery: EventRecord.Delivery = .socketMode,
                        acceptsResponse: Bool = false, command: String? = nil) -> EventRecord {
        var fields = [#""type":"\#(eventType ?? "")""#]
        if let channel { fields.append(#""channel":"\#(channel)""#) }
        if let user { fields.append(#""user":"\#(user)""#) }
        if let botID { fields.append(#""bot_id":"\#(botID)""#) }
        let payload: String
        if let command {
            payload = #"{"command":"\#(command)","channel_id":"\#(channel ?? "")","user_id":"\#(user ?? "")"}"#
        } else {
            payload = #"{"team_id":"\#(team ?? "")","event":{\#(fields.joined(separator: ","))}}"#
        }
        let parts = EventRecord.Parts(
            envelopeType: envelopeType, envelopeID: envelopeID, eventType: command == nil ? eventType : nil, payloadType: nil,
            team: team, eventID: eventID, retryAttempt: 0, retryReason: nil, acceptsResponsePayload: acceptsResponse)
        return Array(payload.utf8).withUnsafeBytes {
            EventRecord(app: "app", delivery: delivery, parts: parts, payload: $0, receivedAtMilliseconds: 0, receivedAt: "")
        }
    }

    private func planner(_ routes: [Route], claims: EventClaims? = nil, acksOnReceipt: Bool = false) -> BatchPlanner {
        BatchPlanner(router: Router(routes: routes), claims: claims, acksOnReceipt: acksOnReceipt)
    }

    /// Every part's outcome: accepted.
    private func allAccepted(_ plan: BatchPlanner.Plan) -> [SinkOutcome?] {
        plan.parts.map { _ in .accepted }
    }

    @Test("events go to the sinks of the routes they match, by event type, team, channel and envelope type")
    func routing() {
        let planner = planner([
            Route(match: RouteMatch(eventTypes: ["message"]), sinks: ["messages"]),
            Route(match: RouteMatch(teams: ["T2"]), sinks: ["second-team"]),
            Route(match: RouteMatch(channels: ["C9"]), sinks: ["ops"]),
            Route(match: RouteMatch(envelopeTypes: ["slash_commands"]), sinks: ["commands"]),
        ])
        let records = [
            record("e0", event: "message", team: "T1"),
            record("e1", event: "reaction_added", team: "T2"),
            record("e2", event: "message", team: "T2"),
            record("e3", type: "slash_commands", team: "T1", command: "/deploy"),
            record("e4", event: "app_mention", team: "T1"),
            record("e5", event: "app_mention", team: "T1", channel: "C9"),
        ]
        let plan = planner.plan(records, own: nil, now: 0)
        #expect(plan.parts == [
            .init(sink: "messages", indices: [0, 2]),
            .init(sink: "second-team", indices: [1, 2]),
            .init(sink: "commands", indices: [3]),
            .init(sink: "ops", indices: [5]),
        ])
        #expect(plan.counts.unrouted == 1)
        #expect(plan.counts.received == 6)
        #expect(plan.counts.receivedByType == ["events_api": 5, "slash_commands": 1])
        let settlement = planner.settle(plan, outcomes: allAccepted(plan))
        // The unrouted event is acked and dropped, like the routed ones the sinks took.
        #expect(settlement.answers == Array(repeating: .ack(response: nil), count: 6))
        #expect(settlement.counts.acked == 6)
        #expect(settlement.counts.nacked == 0)
    }

    @Test("an event routed to several sinks is acked only when every one of them accepted it")
    func fanOut() {
        let planner = planner([Route(sinks: ["file", "spool", "file"]), Route(match: RouteMatch(teams: ["T1"]), sinks: ["http"])])
        let records = [record("e0", team: "T1"), record("e1", team: "T2"), record("e2", team: "T1")]
        let plan = planner.plan(records, own: nil, now: 0)
        // Each sink once per event, in batch order, however many routes name it.
        #expect(plan.parts == [
            .init(sink: "file", indices: [0, 1, 2]), .init(sink: "spool", indices: [0, 1, 2]), .init(sink: "http", indices: [0, 2]),
        ])
        // The http sink refuses its second event (e2); the others take everything.
        let settlement = planner.settle(plan, outcomes: [.accepted, .accepted, SinkOutcome(refused: [1], error: "502 from the app")])
        #expect(settlement.answers == [.ack(response: nil), .ack(response: nil), .nack(reason: "502 from the app")])
        #expect(settlement.counts.acked == 2)
        #expect(settlement.counts.nacked == 1)
        #expect(settlement.counts.failures == ["502 from the app"])
    }

    @Test("a sink refusing part of a batch: exactly those events are nacked and their claims released")
    func partialRefusal() {
        let claims = EventClaims()
        let planner = planner([Route(sinks: ["spool"])], claims: claims)
        let records = (0..<4).map { record("e\($0)", eventID: "Ev\($0)", delivery: $0 % 2 == 0 ? .http : .socketMode) }
        let plan = planner.plan(records, own: nil, now: 10)
        #expect(plan.parts == [.init(sink: "spool", indices: [0, 1, 2, 3])])
        let settlement = planner.settle(plan, outcomes: [SinkOutcome(refused: [1, 2], error: "disk full")])
        #expect(settlement.answers == [.ack(response: nil), .nack(reason: "disk full"), .nack(reason: "disk full"), .ack(response: nil)])
        #expect(settlement.claimUpdates == [
            .init(key: "T1/Ev0", taken: true), .init(key: "T1/Ev1", taken: false),
            .init(key: "T1/Ev2", taken: false), .init(key: "T1/Ev3", taken: true),
        ])
        for update in settlement.claimUpdates { claims.finish(update.key, taken: update.taken, now: 10) }
        // Slack's redelivery of a refused event is taken; a taken one is a duplicate.
        #expect(claims.claim("T1/Ev1", now: 11) == .new)
        #expect(claims.claim("T1/Ev2", now: 11) == .new)
        #expect(claims.claim("T1/Ev0", now: 11) == .done)
        #expect(claims.claim("T1/Ev3", now: 11) == .done)
        #expect(settlement.counts.acked == 2)
        #expect(settlement.counts.nacked == 2)
    }

    @Test("a refusal or response at a position outside the sink's part is ignored")
    func outOfRangePositions() {
        let planner = planner([Route(sinks: ["s"])])
        let plan = planner.plan([record("e0", acceptsResponse: true)], own: nil, now: 0)
        let settlement = planner.settle(plan, outcomes: [SinkOutcome(refused: [5, -1], error: nil, responses: [7: [0x7B, 0x7D]])])
        #expect(settlement.answers == [.ack(response: nil)])
    }

    @Test("a second copy of an event in the same batch is nacked while the first is in the sinks")
    func duplicateWithinBatch() {
        let claims = EventClaims()
        let planner = planner([Route(sinks: ["s"])], claims: claims)
        let records = [record("e0", eventID: "Ev1"), record("e1", eventID: "Ev2"), record("e2", eventID: "Ev1", delivery: .http)]
        let plan = planner.plan(records, own: nil, now: 0)
        #expect(plan.parts == [.init(sink: "s", indices: [0, 1])])
        #expect(plan.counts.duplicates == 1)
        let settlement = planner.settle(plan, outcomes: allAccepted(plan))
        #expect(settlement.answers == [.ack(response: nil), .ack(response: nil), .nack(reason: "the same event is in the sinks now")])
        #expect(settlement.claimUpdates == [.init(key: "T1/Ev1", taken: true), .init(key: "T1/Ev2", taken: true)])
        #expect(settlement.counts.duplicates == 1)
    }

    @Test("across batches: a copy is nacked while the first is in the sinks, acked without the sinks once it was taken")
    func duplicateAcrossBatches() {
        let claims = EventClaims()
        let planner = planner([Route(sinks: ["s"])], claims: claims)
        let first = planner.plan([record("e0", eventID: "Ev1")], own: nil, now: 0)
        // The HTTP retry arrives while the Socket Mode copy is still in the sinks.
        let overlapping = planner.plan([record("h0", eventID: "Ev1", delivery: .http)], own: nil, now: 1)
        #expect(overlapping.parts.isEmpty)
        #expect(planner.settle(overlapping, outcomes: []).answers == [.nack(reason: "the same event is in the sinks now")])
        let settled = planner.settle(first, outcomes: allAccepted(first))
        for update in settled.claimUpdates { claims.finish(update.key, taken: update.taken, now: 2) }
        let later = planner.plan([record("h1", eventID: "Ev1", delivery: .http)], own: nil, now: 3)
        #expect(later.parts.isEmpty)
        let answer = planner.settle(later, outcomes: [])
        #expect(answer.answers == [.ack(response: nil)])
        #expect(answer.claimUpdates.isEmpty)
        #expect(answer.counts.duplicates == 1)
        #expect(answer.counts.acked == 1)
    }

    @Test("acking on receipt: a Socket Mode envelope needs no answer, an HTTP request still gets the sinks' verdict")
    func ingressVersusSocket() {
        let claims = EventClaims()
        let planner = planner([Route(sinks: ["s"])], claims: claims, acksOnReceipt: true)
        let records = [record("e0", eventID: "Ev1"), record("h0", eventID: "Ev2", delivery: .http)]
        let plan = planner.plan(records, own: nil, now: 0)
        let settlement = planner.settle(plan, outcomes: [SinkOutcome(refused: [0, 1], error: "down")])
        #expect(settlement.answers == [.ackedOnReceipt, .nack(reason: "down")])
        // The claims follow the sinks either way: both refused, both released.
        #expect(settlement.claimUpdates == [.init(key: "T1/Ev1", taken: false), .init(key: "T1/Ev2", taken: false)])
        #expect(settlement.counts.acked == 1)
        #expect(settlement.counts.nacked == 1)
    }

    @Test("a sink's response payload goes only to an envelope that accepts one, the first sink's when several give one")
    func responses() {
        let planner = planner([Route(sinks: ["a", "b"])])
        let records = [
            record("c0", type: "slash_commands", delivery: .http, acceptsResponse: true, command: "/deploy"),
            record("e1", delivery: .http, acceptsResponse: false),
        ]
        let plan = planner.plan(records, own: nil, now: 0)
        let fromA: [UInt8] = Array(#"{"text":"a"}"#.utf8)
        let fromB: [UInt8] = Array(#"{"text":"b"}"#.utf8)
        let settlement = planner.settle(plan, outcomes: [
            SinkOutcome(refused: [], error: nil, responses: [0: fromA, 1: fromA]),
            SinkOutcome(refused: [], error: nil, responses: [0: fromB]),
        ])
        #expect(settlement.answers == [.ack(response: fromA), .ack(response: nil)])
    }

    @Test("the app's own bot's messages reach no sink and are acked; slash commands are never its own")
    func ownMessages() {
        let planner = planner([Route(sinks: ["s"])])
        let records = [
            record("e0", user: "UBOT"), record("e1", botID: "B1"), record("e2", user: "U2"),
            record("c3", type: "slash_commands", user: "UBOT", command: "/x"),
        ]
        let plan = planner.plan(records, own: .init(botID: "B1", userID: "UBOT"), now: 0)
        #expect(plan.parts == [.init(sink: "s", indices: [2, 3])])
        #expect(plan.counts.ownMessages == 2)
        let unfiltered = planner.plan(records, own: nil, now: 0)
        #expect(unfiltered.parts == [.init(sink: "s", indices: [0, 1, 2, 3])])
        #expect(planner.settle(plan, outcomes: allAccepted(plan)).answers == Array(repeating: .ack(response: nil), count: 4))
    }

    @Test("a route naming a sink that did not run counts as accepted by it")
    func missingSink() {
        let planner = planner([Route(sinks: ["gone"])])
        let plan = planner.plan([record("e0")], own: nil, now: 0)
        #expect(planner.settle(plan, outcomes: [nil]).answers == [.ack(response: nil)])
    }

    @Test("an empty batch plans nothing and answers nothing")
    func emptyBatch() {
        let claims = EventClaims()
        let planner = planner([Route(sinks: ["s"])], claims: claims)
        let plan = planner.plan([], own: nil, now: 0)
        #expect(plan.parts.isEmpty)
        let settlement = planner.settle(plan, outcomes: [])
        #expect(settlement.answers.isEmpty)
        #expect(settlement.claimUpdates.isEmpty)
        #expect(settlement.counts == BatchPlanner.Counts())
        #expect(claims.count == 0)
    }
}
