/// `TransportError` is re-exported as it is, not wrapped: it is a plain value (one case per
/// layer a connection can fail at: URL, DNS, TCP, proxy, TLS, HTTP, upgrade, timeout,
/// runtime) that `SocketModeError.invalidConfiguration`, `SocketModeNotice.transport` and
/// the runtime's Web API calls carry. A copy in this module would be a second definition of
/// the same twelve cases to keep in step; re-exporting this one declaration, and nothing
/// else of the transport, lets an application match on it with `import Sockeye` alone.
@_exported import enum SockeyeTransport.TransportError
