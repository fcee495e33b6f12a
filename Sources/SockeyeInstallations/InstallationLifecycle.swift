import Foundation
import SockeyeSinkKit

/// What Slack's lifecycle events ask of the installation store, decided from the event
/// alone: `app_uninstalled` revokes the installation the event is for; `tokens_revoked`
/// revokes it when its bot (or, for an installation without a bot, its installer's token)
/// is among the revoked, and otherwise drops the user tokens it names;
/// `team_access_revoked` (an org-wide app removed from some of the org's workspaces)
/// revokes the workspace installations of those teams. Each action is idempotent, so
/// the events may come in any order and more than once.
public enum InstallationLifecycle {
    /// One change to make.
    public enum Action: Sendable, Equatable {
        case revoke(id: String, reason: String)
        case revokeUserTokens(id: String, userIDs: [String])
        /// Revoke the workspace installations (not org-wide ones) of these teams.
        case revokeTeams([String], reason: String)
    }

    /// The event types this reads.
    public static let eventTypes: Set<String> = ["app_uninstalled", "tokens_revoked", "team_access_revoked"]

    /// The actions `record` calls for; none for any other event. `installation` is the
    /// installation the event is for, read from the store (for `tokens_revoked`: its bot
    /// user and installer).
    public static func actions(for record: EventRecord, installation: (String) -> Installation?) -> [Action] {
        guard record.envelopeType == "events_api", let type = record.eventType, eventTypes.contains(type) else { return [] }
        let event = (try? JSONSerialization.jsonObject(with: Data(record.payloadBytes)) as? [String: Any])?["event"] as? [String: Any] ?? [:]
        switch type {
        case "app_uninstalled":
            guard let id = record.authorization?.installationID else { return [] }
            return [.revoke(id: id, reason: "app_uninstalled")]
        case "tokens_revoked":
            guard let id = record.authorization?.installationID else { return [] }
            let tokens = event["tokens"] as? [String: Any] ?? [:]
            let bots = strings(tokens["bot"])
            let users = strings(tokens["oauth"])
            guard let current = installation(id) else { return [] }
            if let bot = current.bot, bots.contains(bot.botUserID) {
                return [.revoke(id: id, reason: "tokens_revoked")]
            }
            if current.bot == nil, users.contains(current.installerUserID) {
                return [.revoke(id: id, reason: "tokens_revoked")]
            }
            return users.isEmpty ? [] : [.revokeUserTokens(id: id, userIDs: users)]
        default:
            let teams = strings(event["team_ids"]) + strings(event["teams"])
            return teams.isEmpty ? [] : [.revokeTeams(teams, reason: "team_access_revoked")]
        }
    }

    private static func strings(_ value: Any?) -> [String] {
        (value as? [Any] ?? []).compactMap { $0 as? String }.filter { !$0.isEmpty }
    }
}
