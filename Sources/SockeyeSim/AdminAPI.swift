import Foundation

/// Routes every HTTP request: the Web API under `/api/`, the admin API under `/admin/`.
///
/// Admin endpoints (JSON bodies, all optional fields):
/// - `GET /admin/stats` — the report as JSON; `GET /admin/stats/table` — as a table.
/// - `POST /admin/inject` `{"kind":"app_mention","count":10,"app":0}` — deliver generated envelopes.
/// - `POST /admin/disconnect` `{"reason":"link_disabled","connection":3,"app":0}` — send a
///   disconnect to one connection, or to every connection of `app` (default 0).
/// - `POST /admin/fault` `{"kind":"drop|rst|stall|half_open|close|slow_hello|refuse|ghosts",
///   "connection":3,"app":0,"seconds":2,"count":4}` — network faults; without `connection`
///   they hit every connection of `app` (default 0), `ghosts` registers for `app`.
/// - `POST /admin/open-error` `{"error":"ratelimited","remaining":2}` (`{"error":null}` clears).
/// - `POST /admin/load` `{"rate":1000,"window":null,"total":5000,"kinds":["message"],"sizes":[1024],"app":0}`.
/// - `GET /admin/connections` — open connections with their state.
/// - `GET /admin/acked-events` — `{"ok":true,"count":N,"event_ids":["Ev…",…]}`: every event id
///   acked at least once over Socket Mode, in increasing order (HTTP delivery not included).
/// - `POST /admin/events` `{"enabled":false,"app":1}` — disable one app's events (sends it
///   `app_rate_limited`) or re-enable them; every app when `app` is omitted.
extension SimServer {
    func route(_ r: HTTPRequest) -> HTTPResponse {
        let now = Self.monotonic()
        let listener = WebAPI.Listener(port: port, tls: options.tls)
        switch r.path {
        case "/api/apps.connections.open":
            return WebAPI.connectionsOpen(r, core: core, listener: listener, now: now)
        case "/api/auth.test":
            return WebAPI.authTest(r, core: core)
        case "/health":
            return .json(200, ["ok": true])
        default:
            if r.path.hasPrefix("/admin/") { return admin(r, now: now) }
            if r.path.hasPrefix("/api/") { return .error("unknown_method") }
            return HTTPResponse(status: 404, headers: [], body: Array("not found".utf8), contentType: "text/plain")
        }
    }

    func admin(_ r: HTTPRequest, now: Double) -> HTTPResponse {
        let body = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
        let app = body["app"] as? Int
        if let app, !(0..<core.appCount).contains(app) { return .error("unknown_app") }
        switch r.path {
        case "/admin/stats":
            return HTTPResponse(status: 200, headers: [], body: Array(fullReport(now: now).json().utf8))
        case "/admin/stats/table":
            return HTTPResponse(status: 200, headers: [], body: Array(fullReport(now: now).table().utf8), contentType: "text/plain")
        case "/admin/acked-events":
            let ids = core.ackedEvents.numbers.map(AckedEvents.eventID)
            return .json(200, ["ok": true, "count": ids.count, "event_ids": ids])
        case "/admin/connections":
            let list = core.conns.values.sorted { $0.id.raw < $1.id.raw }.map { ["id": Int($0.id.raw), "state": $0.state.rawValue, "app": $0.app] }
            return .json(200, ["ok": true, "connections": list])
        case "/admin/inject":
            let kind = body["kind"] as? String ?? "message"
            let count = body["count"] as? Int ?? 1
            guard inject(kind: kind, count: count, app: app ?? 0, now: now) else { return .error("unknown_kind", extra: ["kinds": core.kinds]) }
            return .json(200, ["ok": true])
        case "/admin/disconnect":
            let reason = body["reason"] as? String ?? "refresh_requested"
            core.disconnect(reason: reason, connection: (body["connection"] as? Int).map { ConnectionID(UInt64($0)) }, app: app ?? 0, now: now)
            return .json(200, ["ok": true])
        case "/admin/events":
            guard core.setEventsDisabled(!((body["enabled"] as? Bool) ?? true), app: app, now: now) else { return .error("unknown_app") }
            return .json(200, ["ok": true, "disabled": app.map { core.eventsDisabled(app: $0) } ?? core.eventsDisabled])
        case "/admin/open-error":
            core.openErrorMode = (body["error"] as? String).map { OpenErrorMode(error: $0, remaining: body["remaining"] as? Int) }
            return .json(200, ["ok": true])
        case "/admin/fault":
            let fault = Fault(kind: body["kind"] as? String ?? "", connection: body["connection"] as? Int, app: app,
                              seconds: (body["seconds"] as? Double) ?? (body["seconds"] as? Int).map(Double.init),
                              count: body["count"] as? Int)
            guard apply(fault, now: now) else { return .error("unknown_fault") }
            return .json(200, ["ok": true])
        case "/admin/load":
            guard let spec = try? JSONDecoder().decode(LoadSpec.self, from: Data(r.body)) else { return .error("invalid_arguments") }
            if let error = startLoad(spec, now: now) { return .error(error) }
            return .json(200, ["ok": true])
        default:
            return .error("unknown_method")
        }
    }

    /// Delivers generated payloads of `app` over Socket Mode, or over HTTP in HTTP delivery
    /// mode. False for an unknown kind or app.
    func inject(kind: String, count: Int, app: Int = 0, now: Double) -> Bool {
        guard let http else { return core.inject(kind: kind, count: count, app: app, now: now) }
        guard let t = core.template(kind: kind, app: app) else { return false }
        for _ in 0..<count {
            http.deliver(core.templates[t], eventNumber: core.nextEvent)
            core.nextEvent += 1
        }
        return true
    }

    /// The report (service thread). In HTTP delivery mode its totals and latencies include
    /// the HTTP deliveries (`delivered` = POST attempts, `acked` = 2xx, `redelivered` =
    /// retries), `http` has the HTTP details, and an HTTP load run sets the elapsed time,
    /// rate, send lag and verdict.
    func fullReport(now: Double) -> SimReport {
        guard let http else { return core.report(now: now, cpuNow: Self.threadCPU()) }
        let h = http.reportParts
        var r = core.report(now: now, cpuNow: Self.threadCPU(), extra: (h.counters.delivery, h.latency))
        r.http = h.counters
        r.inFlight += h.inFlight
        r.queued += h.retrying
        if let l = h.load {
            r.elapsedSeconds = max(1e-9, (l.finishedAt ?? now) - l.startedAt)
            r.envelopesPerSecond = Double(r.total.acked) / r.elapsedSeconds
            // Worker CPU over the time the workers could have used (at most one core each).
            let cores = Double(min(h.workers, ProcessInfo.processInfo.activeProcessorCount))
            let busy = min(1, ((l.cpuAtEnd ?? h.workerCPU) - l.cpuAtStart) / (r.elapsedSeconds * cores))
            r.simBusyFraction = busy
            switch l.mode {
            case .rate:
                r.maxSendLagMs = l.maxLag * 1000
                r.saturated = LoadVerdict.rate(maxLag: l.maxLag, busy: busy)
            case .window:
                r.saturated = LoadVerdict.window(busy: busy)
            }
        }
        r.settleLosses()
        return r
    }

    /// Starts a load run (service thread), over Socket Mode or, in HTTP delivery mode, as
    /// POSTs to the Request URL. Returns nil, or the error code: `unknown_app`,
    /// `invalid_arguments` (a rate ≤ 0 or a negative total), `load_running` (HTTP mode).
    @discardableResult
    func startLoad(_ spec: LoadSpec, now: Double) -> String? {
        let app = spec.app ?? 0
        guard core.config.apps.indices.contains(app) else { return "unknown_app" }
        guard spec.total >= 0, (spec.rate ?? 1) > 0 else { return "invalid_arguments" }
        var mix: [Int] = []
        for kind in spec.kinds ?? [] { if let t = core.template(kind: kind, app: app) { mix.append(t) } }
        for size in spec.sizes ?? [] { mix.append(core.sizedMessage(size: size, app: app)) }
        if let http {
            if mix.isEmpty, let t = core.template(kind: "message", app: app) { mix.append(t) }
            let mode: HTTPLoadState.Mode = spec.rate.map { .rate($0) } ?? .window(max(1, spec.window ?? 1000))
            guard http.startLoad(mode, total: spec.total, mix: mix.map { core.templates[$0] }, firstEvent: core.nextEvent)
            else { return "load_running" }
            core.nextEvent += UInt64(spec.total)
            return nil
        }
        return core.startLoad(rate: spec.rate, window: spec.window, total: spec.total, mix: mix, app: app, now: now,
                              cpuNow: Self.threadCPU()) ? nil : "unknown_app"
    }
}

/// A load run request (admin API, CLI and scenario files).
public struct LoadSpec: Codable, Sendable {
    /// Envelopes per second (open loop); nil selects the in-flight window mode.
    public var rate: Double?
    /// Envelopes in flight in as-fast-as-acked mode.
    public var window: Int?
    public var total: Int
    /// Payload kinds to cycle through.
    public var kinds: [String]?
    /// Message payload sizes in bytes to cycle through (a size mix; repeat for weight).
    public var sizes: [Int]?
    /// Index of the app to load (nil: the first).
    public var app: Int?
    public init(rate: Double? = nil, window: Int? = nil, total: Int, kinds: [String]? = nil, sizes: [Int]? = nil, app: Int? = nil) {
        self.rate = rate; self.window = window; self.total = total; self.kinds = kinds; self.sizes = sizes; self.app = app
    }
}
