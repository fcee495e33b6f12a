import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle
import SockeyeDaemon
import SockeyeHTTP

/// The daemon's operations listener (loopback by default):
/// - `GET /healthz`: 200 while the process serves requests;
/// - `GET /readyz`: 200 only when every enabled app has a live connection, else 503 naming
///   the apps that do not;
/// - `GET /metrics`: every metric in Prometheus' text format;
/// - `GET /`: the status page (plain HTML, refreshes itself every 2 s);
/// - `GET /status.json`: what the page shows, as JSON;
/// - `POST` to an HTTP-mode app's paths: the ingress (`Ingress`).
/// It is a `Service`: add it to the daemon's services; it stops with them (requests in
/// progress are answered first).
public struct OperationsServer: Sendable {
    let server: HTTPServer
    let host: String
    let logger: Logger

    /// A listener on `address` (`host:port`) for `daemon`, exporting `metrics`.
    public init(address: String, daemon: Daemon, metrics: MetricsExport, logger: Logger) throws(OperationsError) {
        let (host, port) = try Self.split(address)
        let page = StatusPage(daemon: daemon)
        let ingress = Ingress(daemon: daemon, logger: logger)
        let limits = HTTPServer.Limits(
            // Unknown paths read up to 1 MiB and are answered 404; GETs carry no body.
            bodyLimit: { head in head.method == .POST ? ingress.bodyLimit(path: HTTPServerRequest.path(of: head.uri)) ?? (1 << 20) : 0 },
            onRefusedTooLarge: { head in ingress.refusedTooLarge(path: HTTPServerRequest.path(of: head.uri)) })
        server = HTTPServer(host: host, port: port, limits: limits) { request, sender in
            switch (request.head.method, request.path) {
            case (.POST, _):
                ingress.handle(request, sender)
            case (.GET, "/healthz"), (.HEAD, "/healthz"):
                sender.send(.text(.ok, "ok\n"))
            case (.GET, "/readyz"), (.HEAD, "/readyz"):
                let waiting = page.appsNotReady()
                let text = waiting.isEmpty ? "ready\n" : "not ready: " + waiting.joined(separator: ", ") + "\n"
                sender.send(.text(waiting.isEmpty ? .ok : .serviceUnavailable, text))
            case (.GET, "/metrics"), (.HEAD, "/metrics"):
                sender.send(Self.response("text/plain; version=0.0.4; charset=utf-8", metrics.text()))
            case (.GET, "/status.json"), (.HEAD, "/status.json"):
                sender.send(Self.response("application/json", page.json()))
            case (.GET, "/"), (.HEAD, "/"):
                sender.send(Self.response("text/html; charset=utf-8", page.html()))
            case (.GET, _), (.HEAD, _):
                sender.send(.text(.notFound, "not found\n"))
            default:
                sender.send(HTTPServerResponse(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                                               body: ByteBuffer(string: "method not allowed\n"),
                                               extraHeaders: [("Allow", "GET, HEAD, POST")]))
            }
        }
        self.host = host
        self.logger = logger
    }

    /// The service to run with the daemon.
    public var service: any Service { Running(server: server, host: host, logger: logger) }

    /// The bound port, once running.
    public var port: Int? { server.port }

    static func response(_ type: String, _ text: String) -> HTTPServerResponse {
        HTTPServerResponse(status: .ok, contentType: type, body: ByteBuffer(string: text))
    }

    static func split(_ address: String) throws(OperationsError) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw OperationsError("operations listen address \"\(address)\": expected host:port, e.g. 127.0.0.1:9464") }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }

    /// The listener as a service: binds (failing the daemon when it cannot), serves until
    /// shutdown or cancellation, then stops.
    struct Running: Service {
        let server: HTTPServer
        let host: String
        let logger: Logger

        func run() async throws {
            do {
                try await server.start()
            } catch {
                throw OperationsError("operations listener: cannot listen on \(host): \(error)")
            }
            logger.info("operations listener ready", metadata: ["address": .string("\(host):\(server.port ?? 0)")])
            await withTaskCancellationOrGracefulShutdownHandler {
                await server.waitUntilStopped()
            } onCancelOrGracefulShutdown: { [server] in
                Task { await server.stop() }
            }
        }
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
