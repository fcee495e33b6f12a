/// A route: which events (`match`) go to which sinks.
public struct Route: Sendable, Equatable {
    public var match: RouteMatch
    public var sinks: [String]

    public init(match: RouteMatch = RouteMatch(), sinks: [String]) {
        self.match = match
        self.sinks = sinks
    }
}

/// Conditions on an event; every condition given must hold, an absent one matches anything.
/// Each lists accepted values.
public struct RouteMatch: Sendable, Equatable {
    /// `events_api`, `slash_commands`, `interactive`.
    public var envelopeTypes: Set<String>?
    /// `payload.event.type` for events (`message`, `app_mention` …), `payload.type` for
    /// interactive payloads (`block_actions` …), the command (`/deploy`) for slash commands.
    public var eventTypes: Set<String>?
    /// The workspace id (`T…`).
    public var teams: Set<String>?
    /// The channel id (`C…`, `D…`, `G…`).
    public var channels: Set<String>?

    public init(envelopeTypes: Set<String>? = nil, eventTypes: Set<String>? = nil, teams: Set<String>? = nil,
                channels: Set<String>? = nil) {
        self.envelopeTypes = envelopeTypes
        self.eventTypes = eventTypes
        self.teams = teams
        self.channels = channels
    }

    /// Whether the match needs the channel, which is read from the payload.
    package var needsChannel: Bool { channels != nil }
}
