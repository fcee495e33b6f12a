/// What kind of Slack token a string is, judged by its prefix (Slack's documented token
/// prefixes). Socket Mode takes only app-level tokens: checking before any connection turns
/// the commonest setup mistake (a bot token where the app token goes) into a clear error
/// instead of `not_allowed_token_type` after a network round trip.
public enum AppTokenKind: Sendable, Hashable, CustomStringConvertible {
    /// `xapp-`: an app-level token, what Socket Mode needs.
    case appLevel
    /// `xoxb-`: a bot token.
    case bot
    /// `xoxp-`: a user token.
    case user
    /// `xoxe.`/`xoxe-`: a rotating (refresh or expiring) token.
    case rotating
    /// `xoxa-`, `xoxr-`, `xoxs-`, `xoxo-`: workspace, legacy and other retired token kinds.
    case legacy(String)
    /// `xoxc-`/`xoxd-`: browser session credentials, never meant for apps.
    case session
    /// Empty.
    case empty
    /// Anything else.
    case unknown

    /// The kind of `token` (surrounding whitespace is not trimmed: it is a mistake too).
    public init(_ token: String) {
        let utf8 = Array(token.utf8.prefix(5))
        let prefix = String(decoding: utf8, as: UTF8.self).lowercased()
        if token.isEmpty {
            self = .empty
        } else if prefix == "xapp-" {
            self = .appLevel
        } else if prefix == "xoxb-" {
            self = .bot
        } else if prefix == "xoxp-" {
            self = .user
        } else if prefix == "xoxe." || prefix == "xoxe-" {
            self = .rotating
        } else if prefix == "xoxc-" || prefix == "xoxd-" {
            self = .session
        } else if ["xoxa-", "xoxr-", "xoxs-", "xoxo-"].contains(prefix) {
            self = .legacy(String(prefix.dropLast()))
        } else {
            self = .unknown
        }
    }

    public var description: String {
        switch self {
        case .appLevel: "an app-level token (xapp-)"
        case .bot: "a bot token (xoxb-)"
        case .user: "a user token (xoxp-)"
        case .rotating: "a rotating or refresh token (xoxe-)"
        case .legacy(let prefix): "a legacy or workspace token (\(prefix)-)"
        case .session: "a browser session credential (xoxc-/xoxd-)"
        case .empty: "an empty token"
        case .unknown: "not a Slack token"
        }
    }

    /// Why this token cannot open Socket Mode connections, or `nil` for an app-level token.
    public var socketModeProblem: String? {
        guard self != .appLevel else { return nil }
        var text = "this is \(description); Socket Mode needs an app-level token (xapp-…) with the "
            + "connections:write scope: create one under Basic Information → App-Level Tokens in the app's settings"
        if self == .bot || self == .user {
            text += " (keep the \(self == .bot ? "bot" : "user") token for Web API calls)"
        } else if case .legacy = self {
            text += " (legacy tokens and RTM are retired for new apps)"
        }
        return text
    }
}
