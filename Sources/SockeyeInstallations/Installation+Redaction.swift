// What an installation prints: ids, names and times, never a token. `"\(installation)"`,
// `print`, `String(reflecting:)` and test failures go through `description`; `dump` and
// other mirrors see the credentials' redacted `customMirror`.

extension Installation: CustomStringConvertible, CustomDebugStringConvertible {
    /// Ids and times only; the tokens show as `<redacted>`.
    public var description: String {
        var parts = ["id: \(id)", "app: \(appID)"]
        if let enterpriseID { parts.append("enterprise: \(enterpriseID)") }
        if let teamID { parts.append("team: \(teamID)") }
        if isEnterpriseInstall { parts.append("org-wide") }
        parts.append("installer: \(installerUserID)")
        parts.append("bot: \(bot.map(\.description) ?? "none")")
        parts.append("user token: \(user.map(\.description) ?? "none")")
        parts.append("installed_at: \(installedAt)")
        parts.append("updated_at: \(updatedAt)")
        return "Installation(\(parts.joined(separator: ", ")))"
    }

    /// The same as `description`: no token.
    public var debugDescription: String { description }
}

extension BotCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// The bot's ids, scopes and expiry; the token and refresh token show as `<redacted>`.
    public var description: String {
        var text = "BotCredentials(bot_id: \(botID), bot_user_id: \(botUserID), token: <redacted>"
        if refreshToken != nil { text += ", refresh_token: <redacted>" }
        if let expiresAt { text += ", expires_at: \(expiresAt)" }
        return text + ", scopes: \(scopes.joined(separator: ",")))"
    }

    /// The same as `description`: no token.
    public var debugDescription: String { description }
}

extension UserCredentials: CustomStringConvertible, CustomDebugStringConvertible {
    /// Scopes and expiry; the token and refresh token show as `<redacted>`.
    public var description: String {
        var text = "UserCredentials(token: <redacted>"
        if refreshToken != nil { text += ", refresh_token: <redacted>" }
        if let expiresAt { text += ", expires_at: \(expiresAt)" }
        return text + ", scopes: \(scopes.joined(separator: ",")))"
    }

    /// The same as `description`: no token.
    public var debugDescription: String { description }
}

extension BotCredentials: CustomReflectable {
    /// The fields with the token and refresh token replaced by `<redacted>` (for `dump`).
    public var customMirror: Mirror {
        Mirror(self, children: ["token": "<redacted>", "botID": botID, "botUserID": botUserID, "scopes": scopes,
                                "refreshToken": refreshToken == nil ? "nil" : "<redacted>",
                                "expiresAt": expiresAt as Any], displayStyle: .struct)
    }
}

extension UserCredentials: CustomReflectable {
    /// The fields with the token and refresh token replaced by `<redacted>` (for `dump`).
    public var customMirror: Mirror {
        Mirror(self, children: ["token": "<redacted>", "scopes": scopes,
                                "refreshToken": refreshToken == nil ? "nil" : "<redacted>",
                                "expiresAt": expiresAt as Any], displayStyle: .struct)
    }
}
