import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import SockeyeHTTP
import SockeyeSinkKit

/// The daemon's public listener (`public.listen`): Slack's requests to HTTP-mode apps
/// (`Ingress`) and the "Add to Slack" flow of apps installed by OAuth (`InstallRequests`: GET
/// only, no body), and nothing else. Before a body is read, a request is refused when no app
/// takes requests at its path (404) or it has the wrong method (405), and the connection closes;
/// a body is read up to the app's `ingress.max_body`, then the signature is checked before
/// anything else is done with it. `ListenerLimits` bound connections and time; every
/// refusal is counted in `sockeyed_listener_rejections_total{listener="public",reason}`.
/// It is a `Service`, like `OperationsServer`.
public struct PublicServer: Sendable {
    let server: HTTPServer
    let host: String
    /// The port in the configured address (0: any free one).
    let requestedPort: Int
    let logger: Logger

    /// A listener on `address` (`host:port`) serving the HTTP-mode apps of `daemon` (the
    /// process that runs the apps) within `limits`.
    public init(address: String, limits: ListenerLimits = .publicListener, daemon: any OperationsHost, logger: Logger) throws(OperationsError) {
        let (host, port) = try OperationsServer.split(address)
        let rejections = ListenerRejections(listener: "public", logger: logger)
        let ingress = Ingress(daemon: daemon, logger: logger, rejections: rejections)
        let installs = InstallRequests(daemon: daemon, logger: logger, rejections: rejections)
        let serverLimits = limits.serverLimits(
            bodyLimit: { head in ingress.bodyLimit(path: HTTPServerRequest.path(of: head.uri)) ?? 0 },
            screen: { head in Self.screen(head, ingress, daemon) },
            onRefusedTooLarge: { head in ingress.refusedTooLarge(path: HTTPServerRequest.path(of: head.uri)) },
            rejections: rejections)
        server = HTTPServer(host: host, port: port, limits: serverLimits) { request, sender in
            if let route = daemon.installRoute(String(request.path)) {
                installs.handle(request, route: route, sender)
            } else {
                ingress.handle(request, sender)
            }
        }
        self.host = host
        self.requestedPort = port
        self.logger = logger
    }

    /// Refuses, before the body is read: a path no app takes (404), a method other than POST
    /// (405; GET on an install page or OAuth redirect).
    static func screen(_ head: HTTPRequestHead, _ ingress: Ingress, _ daemon: any OperationsHost) -> HTTPServer.Refusal? {
        if daemon.installRoute(String(HTTPServerRequest.path(of: head.uri))) != nil {
            guard head.method == .GET else {
                return HTTPServer.Refusal(HTTPServerResponse(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                                                             body: ByteBuffer(string: "the install pages take GET\n"),
                                                             extraHeaders: [("Allow", "GET")]),
                                          reason: .method)
            }
            return nil
        }
        guard ingress.bodyLimit(path: HTTPServerRequest.path(of: head.uri)) != nil else {
            return HTTPServer.Refusal(.text(.notFound, "no app takes requests at this path\n"), reason: .unknownPath)
        }
        guard head.method == .POST else {
            return HTTPServer.Refusal(HTTPServerResponse(status: .methodNotAllowed, contentType: "text/plain; charset=utf-8",
                                                         body: ByteBuffer(string: "Slack's requests are POSTs\n"), extraHeaders: [("Allow", "POST")]),
                                      reason: .method)
        }
        return nil
    }

    /// The service to run with the daemon.
    public var service: any Service { ListenerService(server: server, name: "public", host: host, logger: logger, port: requestedPort) }

    /// The bound port, once running.
    public var port: Int? { server.port }
}
