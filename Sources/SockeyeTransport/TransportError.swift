import SockeyeCore

/// Why a connection (to the Web API or a WebSocket) could not be made or was lost. Each case
/// names one layer, so a log line says where to look: the URL, DNS, TCP, the proxy, TLS,
/// HTTP or the WebSocket upgrade.
public enum TransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL cannot be used (malformed, unsupported scheme …).
    case invalidURL(String)
    /// A setting is out of its range (a timeout of zero, a day …).
    case invalidSetting(String)
    /// The host name did not resolve.
    case dns(host: String, reason: String)
    /// No TCP connection could be made to any address of the host.
    case connect(host: String, port: Int, reason: String)
    /// The HTTP proxy refused or failed the CONNECT tunnel.
    case proxy(String)
    /// TLS failed; `verification` when the certificate was not trusted or not for the host.
    case tls(String, verification: Bool)
    /// The server's HTTP answer was unusable (malformed, truncated, too large).
    case http(String)
    /// The WebSocket upgrade was refused or its answer was wrong.
    case upgrade(String)
    /// A WebSocket protocol violation by the server; the connection was closed with `code`.
    case protocolViolation(code: UInt16, String)
    /// The peer closed TCP before the exchange finished.
    case closedEarly(String)
    /// A deadline passed: the text names the exchange, the deadline and the step that
    /// stalled ("no answer to apps.connections.open within 10 s (TLS handshake)").
    case timeout(String)
    /// The runtime could not start or has shut down.
    case runtime(String)

    public var description: String {
        switch self {
        case .invalidURL(let reason): "invalid URL: \(reason)"
        case .invalidSetting(let reason): "invalid setting: \(reason)"
        case .dns(let host, let reason): "cannot resolve \(host): \(reason)"
        case .connect(let host, let port, let reason): "cannot connect to \(host):\(port): \(reason)"
        case .proxy(let reason): "proxy: \(reason)"
        case .tls(let reason, _): reason
        case .http(let reason): "HTTP: \(reason)"
        case .upgrade(let reason): "WebSocket upgrade failed: \(reason)"
        case .protocolViolation(let code, let reason): "WebSocket protocol error (closed with \(code)): \(reason)"
        case .closedEarly(let reason): "connection closed early: \(reason)"
        case .timeout(let reason): "timeout: \(reason)"
        case .runtime(let reason): "runtime: \(reason)"
        }
    }
}
