import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import ServiceLifecycle
import SockeyeDaemon
import Synchronization

/// The daemon's operations listener (loopback by default):
/// - `GET /healthz`: 200 while the process serves requests;
/// - `GET /readyz`: 200 only when every enabled app has a live connection, else 503 naming
///   the apps that do not;
/// - `GET /metrics`: every metric in Prometheus' text format;
/// - `GET /`: the status page (plain HTML, refreshes itself every 2 s);
/// - `GET /status.json`: what the page shows, as JSON;
/// - `POST` to an HTTP-mode app's paths: the ingress (`Ingress`).
/// It is a `Service`: add it to the daemon's services; it stops with them.
public struct OperationsServer: Sendable {
    let application: Application<RouterResponder<BasicRequestContext>>
    let boundPort: BoundPort

    /// The port the listener bound (useful with port 0), once it runs.
    public final class BoundPort: Sendable {
        private let value = Mutex<Int?>(nil)
        public var port: Int? { value.withLock { $0 } }
        func set(_ port: Int?) { value.withLock { $0 = port } }
    }

    /// A listener on `address` (`host:port`) for `daemon`, exporting `metrics`.
    public init(address: String, daemon: Daemon, metrics: MetricsExport, logger: Logger) throws(OperationsError) {
        let (host, port) = try Self.split(address)
        let router = Router()
        let page = StatusPage(daemon: daemon)
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/readyz") { _, _ -> Response in
            let waiting = page.appsNotReady()
            let text = waiting.isEmpty ? "ready\n" : "not ready: " + waiting.joined(separator: ", ") + "\n"
            return Self.response(waiting.isEmpty ? .ok : .serviceUnavailable, "text/plain; charset=utf-8", text)
        }
        router.get("/metrics") { _, _ -> Response in
            Self.response(.ok, "text/plain; version=0.0.4; charset=utf-8", metrics.text())
        }
        router.get("/status.json") { _, _ -> Response in
            Self.response(.ok, "application/json", page.json())
        }
        router.get("/") { _, _ -> Response in
            Self.response(.ok, "text/html; charset=utf-8", page.html())
        }
        // Slack's requests to HTTP-mode apps, at the paths their configuration gives.
        let ingress = Ingress(daemon: daemon, logger: logger)
        router.post("**") { request, _ -> Response in await ingress.handle(request) }
        let bound = BoundPort()
        boundPort = bound
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(host, port: port), serverName: "sockeyed"),
            onServerRunning: { channel in
                bound.set(channel.localAddress?.port)
                logger.info("operations listener ready", metadata: ["address": .string("\(host):\(channel.localAddress?.port ?? port)")])
            },
            logger: serverLogger)
    }

    /// The service to run with the daemon.
    public var service: any Service { application }

    /// The bound port, once running.
    public var port: Int? { boundPort.port }

    static func response(_ status: HTTPResponse.Status, _ type: String, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: type, .cacheControl: "no-store"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    static func split(_ address: String) throws(OperationsError) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw OperationsError("operations listen address \"\(address)\": expected host:port, e.g. 127.0.0.1:9464") }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}

/// The operations listener cannot start.
public struct OperationsError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The process's metrics registry, exported by `/metrics`.
public final class MetricsExport: Sendable {
    let registry: PrometheusCollectorRegistry

    private init(registry: PrometheusCollectorRegistry) { self.registry = registry }

    /// Makes swift-metrics record into a Prometheus registry, before any metric is created
    /// (before the daemon is built). swift-metrics can be bootstrapped once per process: a
    /// second call returns the export the first one made.
    public static func bootstrap() -> MetricsExport { shared }

    private static let shared: MetricsExport = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return MetricsExport(registry: registry)
    }()

    /// The registry's text, as `/metrics` serves it.
    public func text() -> String { registry.emitToString() }
}
