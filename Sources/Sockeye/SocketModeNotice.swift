import SockeyeCore
import SockeyeTransport

/// Something worth a log line that happened to a client (`SocketModeClient.notices`):
/// hellos, refreshes, losses with their reasons, backoff, failures by layer, duplicates
/// dropped, ack-guard acks. The client also logs each one to its `Logger`.
///
/// A mapping of the transport's notices rather than those notices themselves: the API
/// promises these four kinds, while the transport's callback vocabulary may grow with it.
public enum SocketModeNotice: Sendable, Hashable {
    /// A notice of the pool (hello, refresh, loss, backoff, duplicates, ack guard …).
    case pool(PoolNotice)
    /// A connection failed at one layer (DNS, TCP, proxy, TLS, HTTP, upgrade, timeout).
    case transport(TransportError)
    /// The server broke the WebSocket protocol; the connection was closed with the error's code.
    case protocolViolation(ConnectionID, WebSocketProtocolError)
    /// An ack reached the pool after Slack's deadline.
    case lateAck(DeliveryToken)

    init(_ notice: ClientNotice) {
        switch notice {
        case .pool(let pool): self = .pool(pool)
        case .transport(let error): self = .transport(error)
        case .protocolViolation(let connection, let error): self = .protocolViolation(connection, error)
        case .lateAck(let token): self = .lateAck(token)
        }
    }
}
