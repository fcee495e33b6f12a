import SockeyeSinkKit

/// The daemon's two HTTP listeners beyond their addresses' defaults.
///
/// - The operations listener (`operations:`; address in `DaemonConfiguration.operationsAddress`,
///   default `127.0.0.1:9464`) serves `/metrics`, `/healthz`, `/readyz`, `/` and
///   `/status.json`, and only to requests whose `Host` is a loopback name (`localhost`,
///   `127.0.0.1`, `[::1]`), an IP address literal, or one of `operations.allowed_hosts`
///   (with or without a port): anything else is answered 421, so a page on another origin
///   that rebinds its DNS name to this address cannot read it.
/// - The public listener (`public.listen`, off by default) serves the ingress: Slack's
///   requests to apps with `delivery: http` or `both`. Such an app without a public
///   listener is a configuration error.
public struct ListenerSettings: Sendable, Equatable {
    /// The operations listener's limits (`operations.*`).
    public var operations = ListenerLimits.operations
    /// Further `Host` names the operations listener answers (`operations.allowed_hosts`),
    /// lowercased, without port.
    public var allowedHosts: [String] = []
    /// Where the public listener binds (`public.listen`, `host:port`); nil: no public listener.
    public var publicAddress: String?
    /// The public listener's limits (`public.*`).
    public var publicLimits = ListenerLimits.publicListener

    public init(operations: ListenerLimits = .operations, allowedHosts: [String] = [], publicAddress: String? = nil,
                publicLimits: ListenerLimits = .publicListener) {
        self.operations = operations
        self.allowedHosts = allowedHosts
        self.publicAddress = publicAddress
        self.publicLimits = publicLimits
    }
}
