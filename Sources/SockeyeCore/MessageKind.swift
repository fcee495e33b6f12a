/// What a Socket Mode frame is, from its `type` member.
///
/// Unknown types are surfaced, never dropped: Slack may add types, and a host may want
/// to log or acknowledge them. Raw values are part of the C ABI (`sockeye_message_kind`).
public enum MessageKind: Int32, Sendable, Hashable, CaseIterable {
    /// `hello`: sent once after the socket opens; never acknowledged.
    case hello = 1
    /// `disconnect`: Slack is about to close, or refuses, this connection.
    case disconnect = 2
    /// `events_api`: an Events API callback; acknowledge within 3 s.
    case eventsAPI = 3
    /// `slash_commands`: a slash command; the ack may carry the response message.
    case slashCommands = 4
    /// `interactive`: block actions, shortcuts, modal submissions, options loads.
    case interactive = 5
    /// Any other `type`; acknowledge it if it carries an `envelope_id`.
    case unknown = 6

    /// Whether Slack expects an acknowledgement for messages of this kind.
    public var isEnvelope: Bool {
        switch self {
        case .eventsAPI, .slashCommands, .interactive, .unknown: true
        case .hello, .disconnect: false
        }
    }
}

/// The `reason` of a `disconnect` message. Raw values are part of the C ABI.
public enum DisconnectReason: Int32, Sendable, Hashable, CaseIterable {
    /// Not a disconnect message, or it had no string `reason`.
    case none = 0
    /// About 10 s before a scheduled refresh: open the replacement now.
    case warning = 1
    /// This connection is being recycled: make sure a replacement is up, then close it.
    case refreshRequested = 2
    /// Socket Mode was turned off for the app: do not reconnect in a loop.
    case linkDisabled = 3
    /// The app already has the maximum of 10 connections: close and back off.
    case tooManyWebsockets = 4
    /// A reason this version does not know: treat as "reconnect with backoff".
    case unknown = 5
}
