/// Builds a Slack app manifest (YAML) for one configured app: Socket Mode on, the bot events
/// its routes ask for with the scopes they need, its slash commands, and interactivity when a
/// route takes interactive payloads. Paste it at api.slack.com/apps → "Create New App" →
/// "From a manifest", then create the app-level token with `connections:write`.
public enum Manifest {
    /// Bot events, and the scopes Slack requires for them, by the event type routes match
    /// (`payload.event.type`). A `message` route subscribes to messages in every kind of
    /// conversation.
    static let events: [String: (events: [String], scopes: [String])] = [
        "app_mention": (["app_mention"], ["app_mentions:read"]),
        "message": (["message.channels", "message.groups", "message.im", "message.mpim"],
                    ["channels:history", "groups:history", "im:history", "mpim:history"]),
        "reaction_added": (["reaction_added"], ["reactions:read"]),
        "reaction_removed": (["reaction_removed"], ["reactions:read"]),
        "member_joined_channel": (["member_joined_channel"], ["channels:read", "groups:read"]),
        "member_left_channel": (["member_left_channel"], ["channels:read", "groups:read"]),
        "channel_created": (["channel_created"], ["channels:read"]),
        "channel_rename": (["channel_rename"], ["channels:read"]),
        "channel_archive": (["channel_archive"], ["channels:read"]),
        "team_join": (["team_join"], ["users:read"]),
        "user_change": (["user_change"], ["users:read"]),
        "pin_added": (["pin_added"], ["pins:read"]),
        "pin_removed": (["pin_removed"], ["pins:read"]),
        "file_shared": (["file_shared"], ["files:read"]),
        "file_created": (["file_created"], ["files:read"]),
        "emoji_changed": (["emoji_changed"], ["emoji:read"]),
        "link_shared": (["link_shared"], ["links:read"]),
        "app_home_opened": (["app_home_opened"], []),
        "app_uninstalled": (["app_uninstalled"], []),
        "tokens_revoked": (["tokens_revoked"], []),
    ]

    /// The bot scopes `app`'s routes need (for `sockeyed check`).
    public static func requiredScopes(for app: AppSettings) -> Set<String> { needs(app).scopes }

    /// What the routes of `app` ask of Slack.
    struct Needs {
        var events = Set<String>()
        var unknownEvents = Set<String>()
        var scopes = Set<String>()
        var commands = Set<String>()
        var interactive = false
        var everyEvent = false
    }

    static func needs(_ app: AppSettings) -> Needs {
        var needs = Needs()
        for route in app.routes {
            let types = route.match.envelopeTypes ?? ["events_api", "slash_commands", "interactive"]
            if types.contains("events_api") {
                if let wanted = route.match.eventTypes {
                    for type in wanted {
                        if let known = Self.events[type] {
                            needs.events.formUnion(known.events)
                            needs.scopes.formUnion(known.scopes)
                        } else if !type.hasPrefix("/") {
                            needs.unknownEvents.insert(type)
                        }
                    }
                } else {
                    needs.everyEvent = true
                }
            }
            if types.contains("slash_commands") {
                for command in route.match.eventTypes ?? [] where command.hasPrefix("/") { needs.commands.insert(command) }
            }
            if types.contains("interactive") { needs.interactive = true }
        }
        if !needs.commands.isEmpty { needs.scopes.insert("commands") }
        return needs
    }

    /// The manifest of `app`.
    public static func yaml(for app: AppSettings) -> String {
        let needs = needs(app)
        let (events, unknownEvents, scopes, commands, interactive, everyEvent) =
            (needs.events, needs.unknownEvents, needs.scopes, needs.commands, needs.interactive, needs.everyEvent)
        var lines = [
            "# Slack app manifest for \"\(app.name)\", made by `sockeyed manifest` from its routes.",
            "# Create the app from it, then an app-level token with connections:write (its xapp- token",
            "# is app_token in the sockeyed configuration).",
            "display_information:",
            "  name: \(quoted(app.name))",
            "features:",
            "  bot_user:",
            "    display_name: \(quoted(app.name))",
            "    always_online: false",
        ]
        if !commands.isEmpty {
            lines.append("  slash_commands:")
            for command in commands.sorted() {
                lines += ["    - command: \(quoted(command))", "      description: \(quoted("Handled by \(app.name) through sockeyed"))",
                          "      should_escape: false"]
            }
        }
        lines += ["oauth_config:"]
        if let oauth = app.oauth {
            // Distributed by OAuth (docs/oauth.md): Slack sends the browser back to sockeyed.
            lines += ["  redirect_urls:", "    - \(quoted(oauth.redirectURL))"]
        }
        lines += ["  scopes:", "    bot:"]
        let botScopes = scopes.union(app.oauth?.scopes ?? [])
        if botScopes.isEmpty {
            lines.append("      []")
        } else {
            lines += botScopes.sorted().map { "      - \($0)" }
        }
        if let userScopes = app.oauth?.userScopes, !userScopes.isEmpty {
            lines += ["    user:"] + userScopes.sorted().map { "      - \($0)" }
        }
        lines += ["settings:"]
        if !events.isEmpty || !unknownEvents.isEmpty || everyEvent {
            lines += ["  event_subscriptions:", "    bot_events:"]
            lines += events.sorted().map { "      - \($0)" }
            for event in unknownEvents.sorted() {
                lines.append("      - \(event)  # add the scope Slack lists for this event")
            }
            if everyEvent {
                lines.append("      # a route takes every Events API event: list the events the app needs here")
            }
        }
        lines += ["  interactivity:", "    is_enabled: \(interactive)"]
        if app.oauth != nil {
            // Org-wide installs on Enterprise Grid; token rotation is supported by sockeyed but
            // cannot be turned off again once on, so it stays the app owner's choice.
            lines += ["  org_deploy_enabled: true", "  socket_mode_enabled: true",
                      "  token_rotation_enabled: false  # sockeyed refreshes rotating tokens; Slack cannot turn this off again"]
        } else {
            lines += ["  org_deploy_enabled: false", "  socket_mode_enabled: true", "  token_rotation_enabled: false"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
