/// What a service manager speaking systemd's notification protocol told the daemon through
/// its environment: where to send notifications (`NOTIFY_SOCKET`) and how often it wants a
/// sign of life (`WATCHDOG_USEC`, for the process `WATCHDOG_PID` names when it is set).
/// Sans-IO: read from a dictionary and a process id.
public struct ServiceManagerEnvironment: Sendable, Equatable {
    /// Where the notification datagrams go.
    public enum Address: Sendable, Equatable {
        /// A socket file.
        case path(String)
        /// A name in Linux's abstract socket namespace (`@name` in `NOTIFY_SOCKET`), without the `@`.
        case abstract(String)
    }

    /// The service manager's socket.
    public var address: Address
    /// The watchdog's interval: with it, the manager expects `WATCHDOG=1` more often than
    /// this, or it ends the process. `nil` when there is no watchdog for this process.
    public var watchdogInterval: Duration?
    /// What was set but could not be used (logged once at start; never a reason to stop).
    public var ignored: [String] = []

    /// The longest `sun_path` of a `sockaddr_un` on Linux.
    static let maxAddressBytes = 108

    public init(address: Address, watchdogInterval: Duration? = nil) {
        self.address = address
        self.watchdogInterval = watchdogInterval
    }

    /// The settings in `environment` for the process `pid`; `nil` when `NOTIFY_SOCKET` is
    /// unset or empty (no service manager listens) or names something other than a socket
    /// file or an abstract name (`ignoredAddress` then says why).
    public init?(environment: [String: String], pid: Int32) {
        guard let address = Self.address(environment["NOTIFY_SOCKET"]) else { return nil }
        self.address = address
        (watchdogInterval, ignored) = Self.watchdog(environment, pid: pid)
    }

    /// Why `NOTIFY_SOCKET` is set and yet no notification is sent (nil when it is usable or
    /// unset).
    public static func ignoredAddress(_ environment: [String: String]) -> String? {
        guard let value = environment["NOTIFY_SOCKET"], !value.isEmpty, address(value) == nil else { return nil }
        if value.hasPrefix("/") || value.hasPrefix("@") {
            return "NOTIFY_SOCKET is longer than a socket address can be (\(maxAddressBytes - 1) bytes)"
        }
        return "NOTIFY_SOCKET is neither a socket path (/…) nor an abstract name (@…)"
    }

    static func address(_ value: String?) -> Address? {
        guard let value, !value.isEmpty, !value.utf8.contains(0) else { return nil }
        // A path takes its bytes and a NUL; an abstract name a leading NUL and its bytes.
        guard value.utf8.count < maxAddressBytes else { return nil }
        if value.hasPrefix("/") { return .path(value) }
        if value.hasPrefix("@"), value.utf8.count > 1 { return .abstract(String(value.dropFirst())) }
        return nil
    }

    static func watchdog(_ environment: [String: String], pid: Int32) -> (Duration?, [String]) {
        guard let text = environment["WATCHDOG_USEC"], !text.isEmpty else { return (nil, []) }
        if let owner = environment["WATCHDOG_PID"], !owner.isEmpty {
            guard let owner = Int32(owner), owner > 0 else { return (nil, ["WATCHDOG_PID is not a process id"]) }
            // The watchdog is another process's (the variables were inherited): not ours to feed.
            guard owner == pid else { return (nil, []) }
        }
        guard let microseconds = UInt64(text), microseconds > 0, microseconds < UInt64(Int64.max) else {
            return (nil, ["WATCHDOG_USEC is not a positive number of microseconds"])
        }
        return (.microseconds(Int64(microseconds)), [])
    }
}
