import SockeyeCore
import SockeyeTransport

/// Errors of the Swift API. Each says what to do about it.
public enum SocketModeError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The token cannot open Socket Mode connections (wrong kind); nothing was connected.
    case invalidToken(AppTokenKind, String)
    /// A URL, proxy or CA setting is wrong; nothing was connected.
    case invalidConfiguration(TransportError)
    /// The client gave up for good: a fatal `apps.connections.open` error (bad token, missing
    /// scope …) or `link_disabled` (Socket Mode turned off in the app's settings).
    case terminated(PoolFailure)
    /// The response payload is not one JSON object, or makes the ack ≥ 20 480 bytes. Nothing
    /// was sent: the event can still be acked (without a payload, or with a valid one).
    case invalidAckPayload(AckEncodingError)
    /// The event was already acked or nacked.
    case alreadyAnswered
    /// The pool acks on receipt: an ack with a payload cannot be honoured.
    case ackedOnReceipt

    public var description: String {
        switch self {
        case .invalidToken(_, let why): "invalid app token: \(why)"
        case .invalidConfiguration(let error): "invalid configuration: \(error)"
        case .terminated(.linkDisabled):
            "Slack disabled the Socket Mode link (link_disabled): turn Socket Mode on in the app's settings"
        case .terminated(.fatalOpenError(let code)):
            "apps.connections.open failed with \(code), which no retry can fix (check the token and its connections:write scope)"
        case .invalidAckPayload(let error): "ack payload refused: \(error)"
        case .alreadyAnswered: "the event was already acked or nacked"
        case .ackedOnReceipt: "the client acks on receipt: a response payload cannot be sent"
        }
    }
}
