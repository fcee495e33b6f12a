import Foundation
import SockeyeSinkKit

/// `sockeyed send-test-event`: one synthetic event pushed through an app's routes and sinks,
/// as a delivery from Slack would be, so an operator can check a new configuration without
/// waiting for Slack. Nothing is sent to Slack and no connection is opened (sinks that talk to
/// other servers — a forwarder, JetStream — do reach those).
///
/// The event is recognisable everywhere it lands: its event id starts with `EvSOCKEYETEST`,
/// its envelope id with `sockeye-test-`, and its payload carries `"sockeye_test": true`.
public enum TestEvent {
    /// The kinds of event it can send.
    public enum Kind: String, Sendable, CaseIterable {
        /// An Events API `message` in a channel.
        case message
        /// An Events API `app_mention`.
        case appMention = "app_mention"
        /// A slash command (`/sockeye-test`), which accepts a response payload.
        case slashCommand = "slash_command"
    }

    /// What one sink did with the event.
    public struct SinkResult: Sendable, Equatable {
        public var sink: String
        public var accepted: Bool
        /// The sink's error, when it refused.
        public var error: String?
        /// The response payload a sink gave (a command sink's output for a slash command).
        public var response: String?
    }

    /// What happened to the event.
    public struct Outcome: Sendable, Equatable {
        public var eventID: String
        /// The sinks its routes chose, in order, with what each did; empty when no route
        /// matched (or the event was dropped before the routes, see `dropped`).
        public var results: [SinkResult]
        /// Why no sink got it: the app's own bot wrote it, or no installation covers its
        /// workspace.
        public var dropped: String?

        public var succeeded: Bool { dropped == nil && !results.isEmpty && results.allSatisfy(\.accepted) }
    }

    /// The record of a synthetic event of `kind` for `app`, in workspace `team` (of org
    /// `enterprise`, installed org-wide when `orgWide`).
    public static func record(app: AppSettings, kind: Kind, team: String, enterprise: String? = nil, orgWide: Bool = false,
                              channel: String, text: String, now: Date = Date(),
                              authorizer: (any EventAuthorizer)? = nil) -> EventRecord {
        let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).uppercased()
        let eventID = "EvSOCKEYETEST\(suffix)"
        let envelopeID = "sockeye-test-\(UUID().uuidString.lowercased())"
        let seconds = Int(now.timeIntervalSince1970)
        let enterpriseValue: Any = enterprise ?? NSNull()
        let payload: [String: Any]
        let parts: EventRecord.Parts
        switch kind {
        case .message, .appMention:
            let event: [String: Any] = ["type": kind == .message ? "message" : "app_mention", "channel": channel, "user": "USOCKEYETEST",
                                        "text": text, "ts": "\(seconds).000100", "event_ts": "\(seconds).000100"]
            payload = ["type": "event_callback", "team_id": team, "api_app_id": "ASOCKEYETEST", "event": event, "event_id": eventID,
                       "event_time": seconds, "sockeye_test": true,
                       "enterprise_id": enterpriseValue, "is_enterprise_install": orgWide,
                       "authorizations": [["team_id": team, "enterprise_id": enterpriseValue, "user_id": "USOCKEYEBOT", "is_bot": true,
                                           "is_enterprise_install": orgWide]]]
            parts = EventRecord.Parts(envelopeType: "events_api", envelopeID: envelopeID, eventType: event["type"] as? String,
                                      payloadType: "event_callback", team: team, eventID: eventID, retryAttempt: 0, retryReason: nil,
                                      acceptsResponsePayload: false)
        case .slashCommand:
            payload = ["command": "/sockeye-test", "text": text, "team_id": team, "enterprise_id": enterpriseValue,
                       "is_enterprise_install": orgWide ? "true" : "false", "channel_id": channel, "user_id": "USOCKEYETEST",
                       "api_app_id": "ASOCKEYETEST", "response_url": "https://hooks.slack.com/commands/sockeye-test",
                       "trigger_id": "sockeye-test", "sockeye_test": true]
            parts = EventRecord.Parts(envelopeType: "slash_commands", envelopeID: envelopeID, eventType: nil, payloadType: nil, team: team,
                                      eventID: nil, retryAttempt: 0, retryReason: nil, acceptsResponsePayload: true)
        }
        let bytes = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        let milliseconds = Int64(now.timeIntervalSince1970 * 1000)
        return Array(bytes).withUnsafeBytes {
            EventRecord(app: app.name, delivery: .socketMode, parts: parts, payload: $0, receivedAtMilliseconds: milliseconds,
                        receivedAt: Timestamp.iso8601(milliseconds: milliseconds), authorizer: authorizer)
        }
    }

    /// Routes `record` as `app`'s batch planner would and gives it to `sinks`.
    public static func deliver(_ record: EventRecord, app: AppSettings, sinks: [String: any EventSink]) async -> Outcome {
        let planner = BatchPlanner(router: Router(routes: app.routes), claims: nil, acksOnReceipt: false,
                                   filtersInstallationBots: app.oauth != nil && app.ignoreOwnMessages)
        let plan = planner.plan([record], own: nil, now: 0)
        let eventID = record.eventID ?? record.envelopeID
        if plan.counts.unauthorized > 0 {
            return Outcome(eventID: eventID, results: [], dropped: "no active installation covers workspace \(record.team ?? "?")")
        }
        if plan.counts.ownMessages > 0 { return Outcome(eventID: eventID, results: [], dropped: "written by the app's own bot") }
        let outcomes = await SinkDelivery.deliver(plan.parts, of: [record], to: sinks)
        var results: [SinkResult] = []
        for (part, outcome) in zip(plan.parts, outcomes) {
            guard let outcome else {
                results.append(SinkResult(sink: part.sink, accepted: false, error: "no such sink is open", response: nil))
                continue
            }
            let refused = !outcome.refused.isEmpty
            results.append(SinkResult(sink: part.sink, accepted: !refused, error: refused ? (outcome.error ?? "refused") : nil,
                                      response: outcome.responses[0].map { String(decoding: $0, as: UTF8.self) }))
        }
        return Outcome(eventID: eventID, results: results, dropped: nil)
    }

    /// Opens the sinks `app`'s routes name, as the daemon would (`makeSink` for the kinds
    /// other modules implement).
    public static func openSinks(of app: AppSettings, in configuration: DaemonConfiguration,
                                 makeSink: Daemon.SinkMaker?) throws(DaemonError) -> [String: any EventSink] {
        var narrowed = configuration
        narrowed.apps = [app]
        narrowed.apps[0].enabled = true
        narrowed.workers = []
        return try Daemon.openSinks(for: narrowed, reusing: [:], previous: nil, makeSink: makeSink)
    }
}
