import CLibWebSockets
import Foundation

/// Admin requests answered later, without blocking the service thread: `POST
/// /admin/http-probe` talks to the app's Request URL on a thread of its own and the
/// response is written when it is done (lws writeable callback).
extension SimServer {
    /// For a request that is answered later: starts the work and marks the session
    /// deferred (returns nil), or returns an immediate error response. Nil and not
    /// deferred for every other request.
    func deferIfNeeded(_ r: HTTPRequest, _ wsi: OpaquePointer, _ s: Session) -> WebAPIResponse? {
        guard r.path == "/admin/http-probe" else { return nil }
        let body = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
        let app = body["app"] as? Int ?? 0
        guard (0..<core.appCount).contains(app) else { return .error("unknown_app") }
        guard let kind = HTTPProbe.Kind(rawValue: body["kind"] as? String ?? "") else {
            return .error("unknown_probe", extra: ["kinds": HTTPProbe.Kind.allCases.map(\.rawValue)])
        }
        guard let route = routes[app] else { return .error("no_request_url") }
        guard let t = core.template(kind: "message", app: app) else { return .error("unknown_kind") }
        let event = core.templates[t].render(eventNumber: core.nextEvent)
        core.nextEvent += 1
        let count = max(1, min(body["count"] as? Int ?? 1, 1000))
        deferredCount += 1
        let token = deferredCount
        s.deferred = token
        // The probe may take a while (slow_body, a slow app); lws must not time the request out.
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, 120)
        let wsiBox = UncheckedBox(value: wsi)
        let t2 = Thread { [self] in
            let result = HTTPProbe.run(kind, count: count, route: route, event: event, now: Int(Date().timeIntervalSince1970))
            var o: [String: Any] = ["ok": true, "kind": kind.rawValue, "statuses": result.statuses, "bodies": result.bodies]
            if !result.challenges.isEmpty { o["challenges"] = result.challenges; o["challenge"] = result.challenges[0] }
            let response = WebAPIResponse.json(200, o)
            enqueue { [self] _, _ in finishDeferred(wsiBox.value, token: token, response) }
        }
        t2.name = "sockeye-sim-http-probe"
        t2.start()
        return nil
    }

    /// A deferred response is ready: write it once the connection is writeable, if the
    /// request's connection is still there.
    func finishDeferred(_ wsi: OpaquePointer, token: UInt64, _ response: WebAPIResponse) {
        guard let s = sessions[wsi], s.deferred == token else { return }
        s.ready = response
        lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0)
        lws_callback_on_writable(wsi)
    }
}
