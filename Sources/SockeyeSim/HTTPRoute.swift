/// Where one app's HTTP deliveries go and how they are signed: the Events API Request URL,
/// the slash-command Request URL and the interactivity Request URL (Slack configures each
/// on its own page; they are often the same), plus the app's signing secret.
public struct HTTPRoute: Sendable {
    /// Events API Request URL.
    public let events: String
    /// Slash commands' Request URL.
    public let commands: String
    /// Interactivity Request URL.
    public let actions: String
    public let secret: String
    let eventsTarget: RequestTarget
    let commandsTarget: RequestTarget
    let actionsTarget: RequestTarget

    /// Checks the URLs (`http://` or `https://`; `caFile` is the PEM to trust for https).
    /// Equal URLs share one target, so their keep-alive connections are shared too.
    init(events: String, commands: String? = nil, actions: String? = nil, secret: String, caFile: String? = nil) throws {
        self.events = events
        self.commands = commands ?? events
        self.actions = actions ?? events
        self.secret = secret
        var made: [String: RequestTarget] = [:]
        func target(_ url: String) throws -> RequestTarget {
            if let t = made[url] { return t }
            let t = try RequestTarget(url: url, caFile: caFile)
            made[url] = t
            return t
        }
        eventsTarget = try target(events)
        commandsTarget = try target(self.commands)
        actionsTarget = try target(self.actions)
    }

    /// The target a payload of `type` is POSTed to.
    func target(for type: EnvelopeType) -> RequestTarget {
        switch type {
        case .eventsAPI: return eventsTarget
        case .slashCommands: return commandsTarget
        case .interactive: return actionsTarget
        }
    }
}
