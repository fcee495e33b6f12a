import Logging
import Metrics
import NIOCore
import NIOHTTP1
import SockeyeHTTP
import SockeyeSinkKit

/// The "Add to Slack" flow on the public listener: a GET on an app's install page answers
/// the page (with its state cookie); a GET on its OAuth redirect hands the query and cookie
/// to the app (`InstallEndpoint.completeInstall`) and answers the page it returns once the
/// code is exchanged. Every outcome is counted in
/// `sockeyed_oauth_requests_total{app,page,status}`; nothing from the request is logged
/// (the query holds a code, the cookie a state binding).
struct InstallRequests: Sendable {
    let daemon: any OperationsHost
    let logger: Logger
    let rejections: ListenerRejections

    init(daemon: any OperationsHost, logger: Logger, rejections: ListenerRejections) {
        self.daemon = daemon
        self.logger = logger
        self.rejections = rejections
    }

    func handle(_ request: HTTPServerRequest, route: InstallRoute, _ sender: HTTPResponseSender) {
        let endpoint = route.endpoint
        switch route.kind {
        case .installPage:
            send(endpoint.installPage(), page: "install", app: endpoint.name, sender)
        case .redirect:
            let uri = request.head.uri
            let query = uri.firstIndex(of: "?").map { String(uri[uri.index(after: $0)...]) } ?? ""
            let cookie = request.header("Cookie")
            Task {
                let page = await endpoint.completeInstall(query: query, cookieHeader: cookie)
                send(page, page: "redirect", app: endpoint.name, sender)
            }
        }
    }

    private func send(_ page: InstallPage, page name: String, app: String, _ sender: HTTPResponseSender) {
        Counter(label: "sockeyed_oauth_requests_total", dimensions: [("app", app), ("page", name), ("status", String(page.status))]).increment()
        var headers = page.headers
        headers.append(("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"))
        headers.append(("X-Content-Type-Options", "nosniff"))
        sender.send(HTTPServerResponse(status: HTTPResponseStatus(statusCode: page.status), contentType: "text/html; charset=utf-8",
                                       body: ByteBuffer(string: page.html), extraHeaders: headers))
    }
}
