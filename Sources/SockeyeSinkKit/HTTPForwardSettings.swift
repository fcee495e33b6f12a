/// The HTTP forwarder's settings.
public struct HTTPForwardSettings: Sendable, Equatable {
    /// Where events go (the app's Event Subscriptions Request URL).
    public var eventsURL: String
    /// Where slash commands go; the events URL when nil.
    public var commandsURL: String?
    /// Where interactive payloads go; the events URL when nil.
    public var actionsURL: String?
    /// The signing secret the app checks requests with.
    public var signingSecret: String
    /// Requests in progress at once, per app using the sink.
    public var concurrency = 32
    /// After this long without an answer an event is nacked (Slack redelivers it, with
    /// retry headers); a slash command or interactive payload is acked without a response.
    public var timeoutSeconds = 2.5
    /// A PEM file of the certificates that may sign an `https://` app's certificate, trusted
    /// instead of the system's store; nil: the system's store.
    public var caFile: String?

    public init(eventsURL: String, commandsURL: String? = nil, actionsURL: String? = nil, signingSecret: String,
                concurrency: Int = 32, timeoutSeconds: Double = 2.5) {
        self.eventsURL = eventsURL
        self.commandsURL = commandsURL
        self.actionsURL = actionsURL
        self.signingSecret = signingSecret
        self.concurrency = concurrency
        self.timeoutSeconds = timeoutSeconds
    }
}
