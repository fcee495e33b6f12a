import SockeyeCore
import SockeyeTransport

/// The service thread Socket Mode clients run on: one thread does every client's network
/// I/O, its codecs and its timers. Any number of clients may share one runtime (give it to
/// each through `SocketModeOptions.runtime`); without one, the clients of a process share a
/// runtime of their own, started on first use.
///
/// A wrapper, not the transport's runtime itself: the API promises a thread to share and a
/// way to end it, not the transport's scheduling interface.
public final class SocketModeRuntime: Sendable {
    let transport: TransportRuntime

    /// Starts the service thread; throws (`.runtime`) when it cannot start.
    public init() throws(TransportError) {
        transport = try TransportRuntime()
    }

    init(_ transport: TransportRuntime) {
        self.transport = transport
    }

    /// Stops every client on it at once (no drain: stop them first to drain), closes every
    /// socket and ends the thread. Blocks until the thread has exited; call it last.
    public func shutdown() {
        transport.shutdown()
    }

    /// How long a Web API call may take by default, from the DNS lookup to the answer.
    public static let defaultWebAPITimeout: Duration = TransportRuntime.defaultWebAPITimeout

    /// Calls the Web API `method` below `apiBaseURL` with `token` (sent only in the
    /// `Authorization` header) and form `arguments`, on the service thread: for the few calls
    /// around Socket Mode (`auth.test`, a dry `apps.connections.open`), not for the event
    /// path. Proxy and CA settings come from `environment` (`HTTPS_PROXY`, `NO_PROXY`,
    /// `SSL_CERT_FILE` …). Returns the HTTP answer whatever its status; throws the layer that
    /// failed (DNS, TCP, proxy, TLS, HTTP, a `timeout` past `timeout` (0.1…300 s), or
    /// `runtime` once the runtime shut down).
    public func callWebAPI(method: String, token: String, apiBaseURL: String, arguments: [(String, String)] = [],
                           environment: [String: String] = [:],
                           timeout: Duration = SocketModeRuntime.defaultWebAPITimeout) async throws(TransportError) -> HTTPResponse {
        try await transport.callWebAPI(method: method, token: token, apiBaseURL: apiBaseURL, arguments: arguments,
                                       environment: environment, timeout: timeout)
    }

    /// `oauth.v2.access` and the other calls the app makes as itself: like
    /// `callWebAPI(method:token:…)`, with the app's client id and secret as Basic
    /// credentials instead of a token (sent only in the `Authorization` header).
    public func callWebAPI(method: String, clientID: String, clientSecret: String, apiBaseURL: String,
                           arguments: [(String, String)] = [], environment: [String: String] = [:],
                           timeout: Duration = SocketModeRuntime.defaultWebAPITimeout) async throws(TransportError) -> HTTPResponse {
        try await transport.callWebAPI(method: method, credentials: .client(id: clientID, secret: clientSecret), apiBaseURL: apiBaseURL,
                                       arguments: arguments, environment: environment, timeout: timeout)
    }
}
