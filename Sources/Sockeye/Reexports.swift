/// `TransportError` is re-exported as it is, not wrapped: it is a plain value (one case per
/// layer a connection can fail at: URL, DNS, TCP, proxy, TLS, HTTP, upgrade, timeout,
/// runtime) that `SocketModeError.invalidConfiguration`, `SocketModeNotice.transport` and
/// the runtime's Web API calls carry. A copy in this module would be a second definition of
/// the same twelve cases to keep in step; re-exporting this one declaration, and nothing
/// else of the transport, lets an application match on it with `import Sockeye` alone.
@_exported import enum SockeyeTransport.TransportError

/// `SocketModeStats` is re-exported too: a plain value of counters the transport fills in
/// after each batch of work. A copy here would list every counter twice and need a mapping
/// kept in step with each new one.
@_exported import struct SockeyeTransport.SocketModeStats

/// The core's value types are the Swift API's vocabulary: `AckMode`, `PoolState`,
/// `PoolConfiguration`, `PoolMetrics`, `ConnectionID`, `AppTokenKind` and the rest appear in
/// its options, states, notices and errors. The core is sans-IO (values and pure functions,
/// no threads or sockets), so re-exporting it whole lets an application, and the daemon,
/// write `import Sockeye` alone; nothing of the transport comes with it.
@_exported import SockeyeCore
