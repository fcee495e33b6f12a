import Foundation
import Sockeye

/// Who a bot token belongs to, from `auth.test`: the workspace, the bot's user and bot ids,
/// and the scopes the token was granted (Slack's `x-oauth-scopes` header).
public struct BotIdentity: Sendable, Equatable {
    public var team: String?
    public var teamID: String?
    public var userID: String?
    public var botID: String?
    public var scopes: [String]

    /// Calls `auth.test` with `token`; throws the API's error code or the failing layer.
    public static func fetch(token: String, apiURL: String, runtime: SocketModeRuntime,
                             environment: [String: String] = ProcessInfo.processInfo.environment) async throws(WebAPIError) -> BotIdentity {
        let response: HTTPResponse
        do {
            response = try await runtime.callWebAPI(method: "auth.test", token: token, apiBaseURL: apiURL, environment: environment)
        } catch {
            throw .transport(error.description)
        }
        let object = try WebAPIError.object(response, method: "auth.test")
        let scopes = response.headers.first { $0.name.lowercased() == "x-oauth-scopes" }?.value
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } ?? []
        return BotIdentity(team: object["team"] as? String, teamID: object["team_id"] as? String,
                           userID: object["user_id"] as? String, botID: object["bot_id"] as? String, scopes: scopes)
    }
}

/// A Web API call that did not succeed: Slack's error code, an HTTP status, or a transport
/// failure (DNS, TCP, proxy, TLS).
public enum WebAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    case api(String)
    case http(Int)
    case transport(String)

    public var description: String {
        switch self {
        case .api(let code): code
        case .http(let status): "HTTP \(status)"
        case .transport(let message): message
        }
    }

    /// The JSON object of a successful (`"ok": true`) answer.
    static func object(_ response: HTTPResponse, method: String) throws(WebAPIError) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] else {
            throw response.status == 200 ? .transport("\(method) answered something that is not Slack's JSON") : .http(response.status)
        }
        guard object["ok"] as? Bool == true else { throw .api(object["error"] as? String ?? "unknown_error") }
        return object
    }
}
