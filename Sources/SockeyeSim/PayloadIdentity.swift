import Foundation

/// Who a payload is for: the app it is delivered to and that app's workspace. Every
/// payload the simulator delivers carries the identity of the app that receives it.
public struct PayloadIdentity: Sendable, Equatable {
    /// The `A…` app id (`api_app_id`, `view.app_id`).
    public var appID: String
    /// The `T…` workspace id (`team_id`, `team.id`).
    public var teamID: String
    public init(appID: String, teamID: String) { self.appID = appID; self.teamID = teamID }
}

extension SimConfig.App {
    /// This app's identity in payloads.
    public var identity: PayloadIdentity { PayloadIdentity(appID: appID, teamID: teamID ?? SimConfig.defaultTeamID) }
}

extension PayloadTemplate {
    /// This template with its identity fields set to `identity`, wherever they occur:
    /// string values of `api_app_id` and `team_id` at any depth, `team.id` when `team` is an
    /// object, and `view.app_id`. Fields that are absent stay absent. The payload is parsed
    /// and written again (key order may change); a payload that is not a JSON object is
    /// returned unchanged.
    public func rebranded(_ identity: PayloadIdentity) -> PayloadTemplate {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)),
              object is [String: Any],
              let data = try? JSONSerialization.data(withJSONObject: Self.rewrite(object, identity, key: nil),
                                                     options: [.withoutEscapingSlashes])
        else { return self }
        return PayloadTemplate(type: type, acceptsResponsePayload: acceptsResponsePayload, kind: kind,
                               json: String(decoding: data, as: UTF8.self))
    }

    /// Rewrites the identity fields below `value`; `key` is the key `value` sits under.
    static func rewrite(_ value: Any, _ identity: PayloadIdentity, key: String?) -> Any {
        if let array = value as? [Any] { return array.map { rewrite($0, identity, key: nil) } }
        guard var dict = value as? [String: Any] else { return value }
        for (k, v) in dict {
            switch (k, v) {
            case ("api_app_id", is String): dict[k] = identity.appID
            case ("team_id", is String): dict[k] = identity.teamID
            case ("id", is String) where key == "team": dict[k] = identity.teamID
            case ("app_id", is String) where key == "view": dict[k] = identity.appID
            default: dict[k] = rewrite(v, identity, key: k)
            }
        }
        return dict
    }
}
