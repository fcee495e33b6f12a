import Sockeye
import SockeyeSinkKit

extension EventRecord {
    /// Reads `event` for app `app`.
    public init(_ event: SocketModeEvent, app: String, receivedAtMilliseconds: Int64) {
        self.init(event, app: app, receivedAtMilliseconds: receivedAtMilliseconds,
                  receivedAt: Timestamp.iso8601(milliseconds: receivedAtMilliseconds))
    }

    /// Reads `event` for app `app`; `receivedAt` is `receivedAtMilliseconds` in ISO 8601
    /// (formatted once for a whole batch); `authorizer` finds its installation (apps
    /// installed by OAuth).
    package init(_ event: SocketModeEvent, app: String, receivedAtMilliseconds: Int64, receivedAt: String,
                 authorizer: (any EventAuthorizer)? = nil) {
        let parts = Parts(envelopeType: event.type, envelopeID: event.envelopeID, eventType: event.eventType,
                          payloadType: event.payloadType, team: event.teamID, eventID: event.eventID,
                          retryAttempt: event.retryAttempt, retryReason: event.retryReason,
                          acceptsResponsePayload: event.acceptsResponsePayload)
        self = event.withPayloadBytes { payload in
            EventRecord(app: app, delivery: .socketMode, parts: parts, payload: payload,
                        receivedAtMilliseconds: receivedAtMilliseconds, receivedAt: receivedAt, authorizer: authorizer)
        }
    }
}
