import SockeyeCore

/// What the daemon knows of one event once it has looked at it: the fields routes match on
/// and the normalized JSON line every sink writes (schema: `docs/event-line.schema.json`).
///
/// The line is one JSON object:
/// `{"app":…,"delivery":"socket_mode"|"http","envelope_type":…,"envelope_id":…,"event_type":…,`
/// `"team":…,"channel":…,"user":…,"event_id":…,"retry_attempt":…,"retry_reason":…,`
/// `"received_at":"2026-11-30T04:24:15.123Z","payload":{…}}` — `payload` is Slack's JSON
/// exactly as received; absent fields are `null`. An app installed by OAuth (an `oauth:`
/// block) adds `"installation":…` after `team`: the id of the installation the event is for
/// (`null` when none covers its workspace).
public struct EventRecord: Sendable {
    /// The app's name in the configuration.
    public let app: String
    public let envelopeType: String
    public let envelopeID: String
    /// `payload.event.type`, or `payload.type` (interactive), or the slash command.
    public let eventType: String?
    public let team: String?
    public let channel: String?
    public let user: String?
    /// `payload.event.bot_id`.
    public let botID: String?
    /// The workspace and org the payload names (which installation it is for).
    public let tenant: EventTenant
    /// The installation the event is for, when the app is installed by OAuth and one covers
    /// the event's workspace.
    public let authorization: EventAuthorization?
    /// The app is installed by OAuth: events need an installation (`authorization`).
    public let needsAuthorization: Bool
    public let eventID: String?
    /// Where the payload's `api_app_id` is in the payload (decoded only when asked for).
    package let apiAppIDView: ByteView
    public let retryAttempt: Int
    public let retryReason: String?
    public let acceptsResponsePayload: Bool
    /// Wall-clock time the daemon took the event, in milliseconds since 1970.
    public let receivedAtMilliseconds: Int64
    /// The normalized line, without its newline.
    public let line: [UInt8]
    /// Where Slack's payload is in `line`.
    package let payloadRange: Range<Int>

    /// The payload's `api_app_id` (the Slack app's id, `A0…`), when it names one. Decoded on
    /// each call: most sinks never ask.
    public var apiAppID: String? {
        guard apiAppIDView.isPresent else { return nil }
        return line.withUnsafeBytes { JSONStringDecoder.string(apiAppIDView, in: UnsafeRawBufferPointer(rebasing: $0[payloadRange])) }
    }

    /// Slack's payload exactly as received (a copy of its bytes in `line`).
    public var payloadBytes: [UInt8] { Array(line[payloadRange]) }

    /// How the event reached the daemon (the line's `delivery`).
    public let delivery: Delivery

    /// Socket Mode or an HTTP request to the ingress.
    public enum Delivery: String, Sendable {
        case socketMode = "socket_mode"
        case http
    }

    /// The envelope's fields, as Socket Mode's envelope (or an HTTP request) gives them.
    package struct Parts {
        package var envelopeType: String
        package var envelopeID: String
        package var eventType: String?
        package var payloadType: String?
        package var team: String?
        package var eventID: String?
        package var retryAttempt: Int
        package var retryReason: String?
        package var acceptsResponsePayload: Bool

        package init(envelopeType: String, envelopeID: String, eventType: String?, payloadType: String?, team: String?,
                     eventID: String?, retryAttempt: Int, retryReason: String?, acceptsResponsePayload: Bool) {
            self.envelopeType = envelopeType
            self.envelopeID = envelopeID
            self.eventType = eventType
            self.payloadType = payloadType
            self.team = team
            self.eventID = eventID
            self.retryAttempt = retryAttempt
            self.retryReason = retryReason
            self.acceptsResponsePayload = acceptsResponsePayload
        }
    }

    /// The record of an event whose envelope fields are `parts` and whose payload (Slack's
    /// JSON object) is `payload`, delivered by `delivery`. `authorizer` finds its
    /// installation for an app installed by OAuth (nil for the others).
    package init(app: String, delivery: Delivery, parts: Parts, payload: UnsafeRawBufferPointer, receivedAtMilliseconds: Int64,
         receivedAt: String, authorizer: (any EventAuthorizer)? = nil) {
        self.app = app
        self.delivery = delivery
        envelopeType = parts.envelopeType
        envelopeID = parts.envelopeID
        team = parts.team
        eventID = parts.eventID
        retryAttempt = parts.retryAttempt
        retryReason = parts.retryReason.flatMap { $0.isEmpty ? nil : $0 }
        acceptsResponsePayload = parts.acceptsResponsePayload
        self.receivedAtMilliseconds = receivedAtMilliseconds
        let read = (try? PayloadFields.read(payload)) ?? PayloadFields()
        func text(_ view: ByteView) -> String? {
            guard view.isPresent else { return nil }
            let raw = view.bytes(in: payload)
            guard view.isEscaped else { return String(decoding: raw, as: UTF8.self) }
            return JSONStringDecoder.string(view, in: payload)
        }
        channel = text(read.channel)
        user = text(read.user)
        botID = text(read.botID)
        apiAppIDView = read.apiAppID
        tenant = EventTenant(enterpriseID: text(read.tenant.enterpriseID), teamID: text(read.tenant.teamID),
                             isEnterpriseInstall: read.tenant.isEnterpriseInstall)
        needsAuthorization = authorizer != nil
        authorization = authorizer?.authorize(tenant)
        eventType = parts.eventType ?? (parts.envelopeType == "slash_commands" ? text(read.command) : parts.payloadType)
        var writer = JSONLineWriter()
        // The payload plus the envelope fields (ids and names are short).
        writer.begin(capacity: payload.count + 320 + app.utf8.count
                     + (needsAuthorization ? 20 + (authorization?.installationID.utf8.count ?? 4) : 0))
        writer.field("app", app)
        writer.field("delivery", delivery.rawValue)
        writer.field("envelope_type", envelopeType)
        writer.field("envelope_id", envelopeID)
        writer.field("event_type", eventType)
        writer.field("team", team)
        if needsAuthorization { writer.field("installation", authorization?.installationID) }
        writer.field("channel", channel)
        writer.field("user", user)
        writer.field("event_id", eventID)
        writer.field("retry_attempt", retryAttempt)
        writer.field("retry_reason", retryReason)
        writer.field("received_at", receivedAt)
        writer.key("payload")
        let payloadStart = writer.bytes.count
        writer.raw(payload.isEmpty ? UnsafeRawBufferPointer(start: nil, count: 0) : payload)
        payloadRange = payloadStart..<writer.bytes.count
        writer.end()
        line = writer.bytes
    }
}

