import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceLifecycle
import SockeyeHTTP
import SockeyeSinkKit

/// The daemon's operations listener (loopback by default):
/// - `GET /healthz`: 200 while the process serves requests;
/// - `GET /readyz`: 200 only when every enabled app has a live connection, else 503 naming
///   the apps that do not;
/// - `GET /metrics`: every metric in Prometheus' text format;
/// - `GET /`: the status page (plain HTML, refreshes itself every 2 s);
/// - `GET /status.json`: what the page shows, as JSON.
/// Only requests whose `Host` passes `HostCheck` are answered (421 otherwise: no DNS
/// rebinding); no path takes a body (any other method is 405, an unknown path 404, both
/// without reading a body); the listener's `ListenerLimits` bound connections and time.
/// Slack's requests go to the public listener (`PublicServer`), never here.
/// It is a `Service`: add it to the daemon's services; it stops with them (requests in
/// progress are answered first).
public struct OperationsServer: Sendable {
    let server: HTTPServer
    let host: String
    /// The port in the configured address (0: any free one).
    let requestedPort: Int
    let logger: Logger

    /// The paths this listener serves.
    static let paths: Set<Substring> = ["/healthz", "/readyz", "/metrics", "/status.json", "/"]

    /// A listener on `address` (`host:port`) for `daemon` (the process that runs the apps),
    /// exporting `metrics`, within `limits`, answering the loopback names, IP literals and
    /// `allowedHosts`.
    public init(address: String, limits: ListenerLimits = .operations, allowedHosts: [String] = [], daemon: any OperationsHost,
                metrics: MetricsExport, logger: Logger) throws(OperationsError) {
        let (host, port) = try Self.split(address)
        let page = StatusPage(host: daemon)
        let hosts = HostCheck(allowed: allowedHosts)
        let rejections = ListenerRejections(listener: "operations", logger: logger)
        let serverLimits = limits.serverLimits(bodyLimit: { _ in 0 }, screen: { head in Self.screen(head, hosts) }, rejections: rejections)
        server = HTTPServer(host: host, port: port, limits: serverLimits) { request, sender in
            switch request.path {
            case "/healthz":
                sender.send(.text(.ok, "ok\n"))
            case "/readyz":
                let waiting = page.appsNotReady()
                let text = waiting.isEmpty ? "ready\n" : "not ready: " + waiting.joined(separator: ", ") + "\n"
                sender.send(.text(waiting.isEmpty ? .ok : .serviceUnavailable, text))
            case "/metrics":
                sender.send(Self.response("text/plain; version=0.0.4; charset=utf-8", metrics.text()))
            case "/status.json":
                sender.send(Self.response("application/json", page.json()))
            case "/":
                sender.send(Self.response("text/html; charset=utf-8", page.html()))
            default:
                sender.send(.text(.notFound, "not found\n"))
            }
        }
        self.host = host
        self.requestedPort = port
        self.logger = logger
    }

    /// Refuses, before any body is read: a `Host` not allowed (421), a method other than GET
    /// and HEAD (405), a path not served here (404).
    static func screen(_ head: HTTPRequestHead, _ hosts: HostCheck) -> HTTPServer.Refusal? {
        guard hosts.allows(head.headers.first(name: "host")) else {
            return HTTPServer.Refusal(.text(.misdirectedRequest, "this listener does not answer for that Host\n"), reason: .host)
        }
        guard head.method == .GET || head.method == .HEAD else {
            return HTTPServer.Refusal(HTTPServerResponse(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                                                         body: ByteBuffer(string: "method not allowed\n"), extraHeaders: [("Allow", "GET, HEAD")]),
                                      reason: .method)
        }
        guard paths.contains(HTTPServerRequest.path(of: head.uri)) else {
            return HTTPServer.Refusal(.text(.notFound, "not found\n"), reason: .unknownPath)
        }
        return nil
    }

    /// The service to run with the daemon.
    public var service: any Service { ListenerService(server: server, name: "operations", host: host, logger: logger, port: requestedPort) }

    /// The bound port, once running.
    public var port: Int? { server.port }

    static func response(_ type: String, _ text: String) -> HTTPServerResponse {
        HTTPServerResponse(status: .ok, contentType: type, body: ByteBuffer(string: text))
    }

    static func split(_ address: String) throws(OperationsError) -> (String, Int) {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { throw OperationsError("listen address \"\(address)\": expected host:port, e.g. 127.0.0.1:9464") }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}

/// A listener as a service: binds (failing the daemon when it cannot), serves until
/// shutdown or cancellation, then stops.
struct ListenerService: Service {
    let server: HTTPServer
    let name: String
    let host: String
    let logger: Logger

    /// The port asked for (0: any free one), for the error that says it cannot be had.
    let port: Int

    func run() async throws {
        do {
            try await server.start()
        } catch {
            throw OperationsError("\(name) listener: cannot listen on \(host):\(port): \(error)")
        }
        logger.info("\(name) listener ready", metadata: ["address": .string("\(host):\(server.port ?? 0)")])
        await withTaskCancellationOrGracefulShutdownHandler {
            await server.waitUntilStopped()
        } onCancelOrGracefulShutdown: { [server] in
            Task { await server.stop() }
        }
        // The listening socket is closed; the service ends once the requests in progress are
        // answered and their connections closed (bounded by the stop's deadline), so the
        // daemon does not exit under an answer still on its way.
        await server.stop()
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
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = MetricsBuckets.durations
        MetricsSystem.bootstrap(factory)
        BuildInfo.record(in: registry)
        return MetricsExport(registry: registry)
    }()

    /// The registry's text, as `/metrics` serves it.
    public func text() -> String { registry.emitToString() }
}
