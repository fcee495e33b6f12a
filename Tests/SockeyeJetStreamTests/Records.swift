import SockeyeSinkKit

/// An event record as the client would make it from a Socket Mode envelope.
func eventRecord(app: String = "app", envelopeID: String, type envelopeType: String = "events_api", event eventType: String? = "message",
                 eventID: String? = nil, apiAppID: String? = "A0TESTAPP", command: String? = nil) -> EventRecord {
    var members: [String] = []
    if let apiAppID { members.append(#""api_app_id":"\#(apiAppID)""#) }
    if let command { members.append(#""command":"\#(command)""#) }
    if let eventID { members.append(#""event_id":"\#(eventID)""#) }
    members.append(#""event":{"type":"\#(eventType ?? "")","channel":"C1","user":"U1"}"#)
    let payload = "{" + members.joined(separator: ",") + "}"
    let parts = EventRecord.Parts(
        envelopeType: envelopeType, envelopeID: envelopeID, eventType: command == nil ? eventType : nil, payloadType: nil,
        team: "T1", eventID: eventID, retryAttempt: 0, retryReason: nil, acceptsResponsePayload: command != nil)
    return Array(payload.utf8).withUnsafeBytes {
        EventRecord(app: app, delivery: .socketMode, parts: parts, payload: $0, receivedAtMilliseconds: 0, receivedAt: "2026-12-06T00:00:00.000Z")
    }
}
