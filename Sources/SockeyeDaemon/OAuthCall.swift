import Sockeye
import SockeyeInstallations

/// `oauth.v2.access`, as the app itself (its client id and secret as Basic credentials, never
/// in the body): for an authorization code at install, and for a refresh token at rotation.
enum OAuthCall {
    /// How long one call may take, DNS to answer.
    static let timeout: Duration = .seconds(15)

    /// The answer's body for `arguments` (`code` and `redirect_uri`, or `grant_type` and
    /// `refresh_token`); an HTTP status other than 200 or a transport failure is thrown.
    static func access(arguments: [(String, String)], settings: OAuthSettings, apiURL: String, runtime: SocketModeRuntime,
                       environment: [String: String]) async throws(OAuthCallError) -> [UInt8] {
        let response: HTTPResponse
        do {
            response = try await runtime.callWebAPI(method: "oauth.v2.access", clientID: settings.clientID, clientSecret: settings.clientSecret,
                                                    apiBaseURL: apiURL, arguments: arguments, environment: environment, timeout: timeout)
        } catch {
            throw .transport(error.description)
        }
        guard response.status == 200 else { throw .http(response.status) }
        return response.body
    }
}

/// Why an OAuth call gave no tokens. Never holds a token or the client secret.
enum OAuthCallError: Error, Sendable, CustomStringConvertible {
    case transport(String)
    case http(Int)
    case answer(OAuthAnswerError)

    var description: String {
        switch self {
        case .transport(let message): message
        case .http(let status): "HTTP \(status)"
        case .answer(let error): error.description
        }
    }

    /// A refusal of the request itself (a bad or used code, a wrong secret): retrying it
    /// cannot help. Transport failures, 5xx and `internal_error` may.
    var isClientError: Bool {
        switch self {
        case .transport: false
        case .http(let status): status < 500 && status != 429
        case .answer(.api(let code)): !["internal_error", "fatal_error", "service_unavailable", "ratelimited", "request_timeout"].contains(code)
        case .answer(.malformed): false
        }
    }
}
