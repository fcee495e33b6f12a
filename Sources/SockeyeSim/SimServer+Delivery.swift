import Foundation

/// Per-app delivery mode on the transport side: starts HTTP delivery on first use, moves
/// `SimCore`'s HTTP work to it, brings finished payloads back to the core, and switches
/// apps between Socket Mode and HTTP (`POST /admin/delivery`). Service thread only,
/// except `startHTTP` during init.
extension SimServer {
    /// What `POST /admin/delivery` asks for.
    struct DeliveryRequest {
        var app: Int
        var mode: DeliveryMode
        var requestURL: String?
        var commandsURL: String?
        var actionsURL: String?
        var signingSecret: String?
        /// PEM file to trust for `https://` URLs (default: `Options.requestURLCA`).
        var caFile: String?
    }

    /// Starts the HTTP workers (once) with `routes`; returns them.
    @discardableResult
    func startHTTP(routes: [Int: HTTPRoute]) -> HTTPDelivery {
        httpLock.lock(); defer { httpLock.unlock() }
        if let h = httpDelivery { return h }
        let h = HTTPDelivery(config: options.config, routes: routes) { [weak self] in
            guard let self else { return }
            self.enqueue { [self] _, now in self.drainHTTP(now: now) }
        }
        httpDelivery = h
        return h
    }

    /// POSTs the work the core handed to HTTP (called from `pump`).
    func flushHTTP() {
        let work = core.takeHTTPOut()
        guard !work.isEmpty else { return }
        let http = startHTTP(routes: routes)
        for w in work { http.submit(job(for: w)) }
    }

    /// The HTTP job for a piece of core work: a retry (`attempt` > 0) carries
    /// `X-Slack-Retry-Reason: http_timeout` (it was not acked in time).
    func job(for w: Work) -> HTTPDelivery.Job {
        let t = core.templates[w.template]
        let (body, contentType) = HTTPDelivery.body(for: t, eventNumber: w.eventNumber)
        var j = HTTPDelivery.Job(body: body, contentType: contentType, type: t.type, intendedAt: w.intendedAt,
                                 app: w.app, template: w.template, eventNumber: w.eventNumber)
        j.attempt = w.attempt
        j.reason = w.attempt > 0 ? "http_timeout" : nil
        j.fromCore = true
        j.fromCoreLoad = w.fromLoad
        return j
    }

    /// Brings what HTTP delivery finished back to the core.
    func drainHTTP(now: Double) {
        guard let http else { return }
        for s in http.takeSettled() { core.httpFinished(s, now: now) }
        pump()
    }

    /// Switches an app's delivery mode. Returns nil or an error code: `unknown_app`,
    /// `no_request_url` (HTTP without a URL given now or before), `bad_request_url`.
    func setDelivery(_ r: DeliveryRequest, now: Double) -> String? {
        guard (0..<core.appCount).contains(r.app) else { return "unknown_app" }
        let old = routes[r.app]
        if r.requestURL != nil || r.commandsURL != nil || r.actionsURL != nil || r.signingSecret != nil {
            guard let events = r.requestURL ?? old?.events else { return "no_request_url" }
            do {
                routes[r.app] = try HTTPRoute(events: events, commands: r.commandsURL ?? (r.requestURL == nil ? old?.commands : nil),
                                              actions: r.actionsURL ?? (r.requestURL == nil ? old?.actions : nil),
                                              secret: r.signingSecret ?? old?.secret ?? options.signingSecret,
                                              caFile: r.caFile ?? options.requestURLCA)
            } catch {
                return "bad_request_url"
            }
        }
        switch r.mode {
        case .http:
            guard let route = routes[r.app] else { return "no_request_url" }
            _ = startHTTP(routes: [:]).setRoute(app: r.app, route)
            core.setMode(.http, app: r.app, now: now)
        case .socket:
            core.setMode(.socket, app: r.app, now: now)
            if let http {
                for job in http.setRoute(app: r.app, nil) {
                    core.httpFinished(HTTPDelivery.Settled(job: job, outcome: .handBack), now: now)
                }
            }
        }
        pump()
        return nil
    }

    /// `GET /admin/delivery` for one app.
    func deliveryJSON(app: Int) -> [String: Any] {
        var o: [String: Any] = ["ok": true, "app": app, "mode": core.mode(app: app).rawValue]
        if let route = routes[app] {
            o["request_url"] = route.events
            o["commands_url"] = route.commands
            o["actions_url"] = route.actions
        }
        return o
    }
}
