import Foundation

/// What `oauth.v2.access` answered for an authorization code: the installation it grants,
/// except the bot's id (`B…`), which the answer does not carry (the daemon asks `auth.test`
/// with the new bot token, as Slack's SDKs do).
public struct OAuthGrant: Sendable, Equatable {
    /// The installation, with `bot?.botID` empty until `auth.test` tells it.
    public var installation: Installation

    /// Reads the JSON `body` of a successful answer at `now` (seconds since 1970). Throws
    /// Slack's error code for `"ok": false`, or `malformed` when a field an install needs is
    /// missing. No token ever appears in an error.
    public static func read(_ body: [UInt8], now: Int64) throws(OAuthAnswerError) -> OAuthGrant {
        let object = try OAuthAnswerError.object(body)
        guard let appID = object["app_id"] as? String, !appID.isEmpty else { throw .malformed("no app_id") }
        let team = object["team"] as? [String: Any]
        let enterprise = object["enterprise"] as? [String: Any]
        let isEnterpriseInstall = object["is_enterprise_install"] as? Bool ?? false
        let teamID = team?["id"] as? String
        let enterpriseID = enterprise?["id"] as? String
        if isEnterpriseInstall {
            guard enterpriseID?.isEmpty == false else { throw .malformed("an org-wide install without an enterprise id") }
        } else {
            guard teamID?.isEmpty == false else { throw .malformed("no team id") }
        }
        let authedUser = object["authed_user"] as? [String: Any] ?? [:]
        guard let installer = authedUser["id"] as? String, !installer.isEmpty else { throw .malformed("no authed_user.id") }
        let tokenType = object["token_type"] as? String
        var bot: BotCredentials?
        if tokenType == "bot", let token = object["access_token"] as? String, !token.isEmpty {
            guard let botUser = object["bot_user_id"] as? String, !botUser.isEmpty else { throw .malformed("a bot token without bot_user_id") }
            bot = BotCredentials(token: token, botID: "", botUserID: botUser, scopes: scopes(object["scope"]),
                                 refreshToken: nonEmpty(object["refresh_token"]), expiresAt: expiry(object["expires_in"], now: now))
        }
        var user: UserCredentials?
        if let token = authedUser["access_token"] as? String, !token.isEmpty {
            user = UserCredentials(token: token, scopes: scopes(authedUser["scope"]), refreshToken: nonEmpty(authedUser["refresh_token"]),
                                   expiresAt: expiry(authedUser["expires_in"], now: now))
        }
        guard bot != nil || user != nil else { throw .malformed("no token in the answer") }
        let installation = Installation(
            appID: appID, enterpriseID: enterpriseID, enterpriseName: enterprise?["name"] as? String, enterpriseURL: nil,
            teamID: isEnterpriseInstall ? nil : teamID, teamName: isEnterpriseInstall ? nil : team?["name"] as? String,
            isEnterpriseInstall: isEnterpriseInstall, bot: bot, installerUserID: installer, user: user, tokenType: tokenType,
            installedAt: now)
        return OAuthGrant(installation: installation)
    }

    static func scopes(_ value: Any?) -> [String] {
        (value as? String ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func nonEmpty(_ value: Any?) -> String? {
        guard let text = value as? String, !text.isEmpty else { return nil }
        return text
    }

    /// `expires_in` seconds from `now`, range-checked (a hostile or broken answer cannot
    /// trap or push the expiry past a year).
    static func expiry(_ value: Any?, now: Int64) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        let seconds = number.doubleValue
        guard seconds.isFinite, seconds > 0 else { return now }
        return now &+ Int64(min(seconds, 366 * 86_400))
    }
}

/// What `oauth.v2.access` answered for a refresh token (`grant_type=refresh_token`): the
/// next access token and refresh token of one kind (bot or user).
public struct RefreshedToken: Sendable, Equatable {
    /// `bot` or `user`.
    public var tokenType: String
    public var token: String
    /// The next refresh token: the one just used no longer works.
    public var refreshToken: String
    public var expiresAt: Int64?
    public var scopes: [String]

    /// Reads the JSON `body` of the answer at `now`.
    public static func read(_ body: [UInt8], now: Int64) throws(OAuthAnswerError) -> RefreshedToken {
        let object = try OAuthAnswerError.object(body)
        guard let token = OAuthGrant.nonEmpty(object["access_token"]) else { throw .malformed("no access_token") }
        guard let refresh = OAuthGrant.nonEmpty(object["refresh_token"]) else { throw .malformed("no refresh_token") }
        return RefreshedToken(tokenType: object["token_type"] as? String ?? "bot", token: token, refreshToken: refresh,
                              expiresAt: OAuthGrant.expiry(object["expires_in"], now: now), scopes: OAuthGrant.scopes(object["scope"]))
    }
}

/// Why an OAuth answer gave no tokens: Slack's error code, or an answer that is not what
/// Slack sends. Never holds a token.
public enum OAuthAnswerError: Error, Sendable, Equatable, CustomStringConvertible {
    case api(String)
    case malformed(String)

    public var description: String {
        switch self {
        case .api(let code): code
        case .malformed(let why): "unexpected answer from oauth.v2.access: \(why)"
        }
    }

    static func object(_ body: [UInt8]) throws(OAuthAnswerError) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw .malformed("not a JSON object")
        }
        guard object["ok"] as? Bool == true else {
            let code = object["error"] as? String ?? "unknown_error"
            // Slack's codes are short snake_case words; anything else is not repeated.
            throw .api(code.count <= 64 && code.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") } ? code : "unknown_error")
        }
        return object
    }
}
