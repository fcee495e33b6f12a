import Foundation

/// Routes every HTTP request: the Web API under `/api/`, Slack's OAuth consent page at
/// `/oauth/v2/authorize`, the admin API under `/admin/` (the OAuth side's under
/// `/admin/oauth/`: `SimServer+OAuth`).
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
/// - `POST /admin/load` `{"rate":1000,"window":null,"total":5000,"kinds":["message"],"sizes":[1024],"app":0}`;
///   `"apps":[0,1,2]` instead of `app` spreads the run round-robin over several apps.
/// - `GET /admin/connections` — open connections with their state.
/// - `GET /admin/acked-events` — `{"ok":true,"count":N,"event_ids":["Ev…",…]}`: every event id
///   acked at least once, over Socket Mode or HTTP (a 2xx), in increasing order.
/// - `POST /admin/delivery` `{"app":0,"mode":"http","request_url":…,"commands_url":…,
///   "actions_url":…,"signing_secret":…}` — switch one app between Socket Mode and HTTP
///   delivery; `GET /admin/delivery?app=0` — its mode and URLs.
/// - `GET /admin/responses` — ack payloads and HTTP reply bodies (`ResponseLog`).
/// - `POST /admin/http-probe` `{"app":0,"kind":"bad_signature","count":1}` — odd requests
///   to the app's Request URL (`HTTPProbe`); answered when they are done.
/// - `POST /admin/events` `{"enabled":false,"app":1}` — disable one app's events (sends it
///   `app_rate_limited`) or re-enable them; every app when `app` is omitted.
extension SimServer {
    func route(_ r: HTTPRequest) -> WebAPIResponse {
        let now = Self.monotonic()
        let listener = WebAPI.Listener(port: port, tls: options.tls)
        switch r.path {
        case "/api/apps.connections.open":
            return WebAPI.connectionsOpen(r, core: core, listener: listener, now: now)
        case "/api/auth.test":
            return WebAPI.authTest(r, core: core, now: now)
        case "/api/auth.revoke":
            return TokenWebAPI.authRevoke(r, core: core, now: now)
        case "/api/chat.postMessage":
            return TokenWebAPI.postMessage(r, core: core, now: now)
        case "/api/oauth.v2.access":
            return OAuthAccess.handle(r, oauth: core.oauth, now: now)
        case OAuthAuthorize.path:
            return OAuthAuthorize.handle(r, oauth: core.oauth, now: now)
        case "/health":
            return .json(200, ["ok": true])
        default:
            if r.path.hasPrefix("/admin/oauth/") { return oauthAdmin(r, now: now) }
            if r.path.hasPrefix("/admin/") { return admin(r, now: now) }
            if r.path.hasPrefix("/api/") { return .error("unknown_method") }
            return WebAPIResponse(status: 404, headers: [], body: Array("not found".utf8), contentType: "text/plain")
        }
    }

    func admin(_ r: HTTPRequest, now: Double) -> WebAPIResponse {
        let body = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any] ?? [:]
        let app = body["app"] as? Int ?? Self.queryInt(r.query, "app")
        if let app, !(0..<core.appCount).contains(app) {
            return .error("unknown_app", extra: ["message": "app \(app), but the config has \(core.appCount) app(s)"])
        }
        switch r.path {
        case "/admin/stats":
            return WebAPIResponse(status: 200, headers: [], body: Array(fullReport(now: now).json().utf8))
        case "/admin/stats/table":
            return WebAPIResponse(status: 200, headers: [], body: Array(fullReport(now: now).table().utf8), contentType: "text/plain")
        case "/admin/acked-events":
            let ids = core.ackedEvents.numbers.map(AckedEvents.eventID)
            return .json(200, ["ok": true, "count": ids.count, "event_ids": ids])
        case "/admin/responses":
            return .json(200, ["ok": true, "responses": core.responses.json])
        case "/admin/delivery":
            if r.method == "GET" { return .json(200, deliveryJSON(app: app ?? 0)) }
            guard let mode = DeliveryMode(rawValue: body["mode"] as? String ?? "") else { return .error("invalid_mode") }
            let request = DeliveryRequest(app: app ?? 0, mode: mode, requestURL: body["request_url"] as? String,
                                          commandsURL: body["commands_url"] as? String, actionsURL: body["actions_url"] as? String,
                                          signingSecret: body["signing_secret"] as? String, caFile: body["ca_file"] as? String)
            if let error = setDelivery(request, now: now) { return .error(error) }
            return .json(200, deliveryJSON(app: app ?? 0))
        case "/admin/connections":
            let list = core.conns.values.sorted { $0.id.raw < $1.id.raw }.map { ["id": Int($0.id.raw), "state": $0.state.rawValue, "app": $0.app] }
            return .json(200, ["ok": true, "connections": list])
        case "/admin/inject":
            let kind = body["kind"] as? String ?? "message"
            let count = body["count"] as? Int ?? 1
            var overrides: [String: String] = [:]
            for field in PayloadLibrary.overridableFields { if let v = body[field] as? String { overrides[field] = v } }
            guard core.inject(kind: kind, overrides: overrides, count: count, app: app ?? 0, now: now)
            else { return .error("unknown_kind", extra: ["kinds": core.kinds]) }
            return .json(200, ["ok": true])
        case "/admin/disconnect":
            let reason = body["reason"] as? String ?? "refresh_requested"
            core.disconnect(reason: reason, connection: (body["connection"] as? Int).map { ServerConnectionID(UInt64($0)) }, app: app ?? 0, now: now)
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
            do throws(LoadRefusal) { try startLoadOrExplain(spec, now: now) } catch { return .error(error.code, extra: ["message": error.message]) }
            return .json(200, ["ok": true])
        default:
            return .error("unknown_method")
        }
    }

    /// Delivers generated payloads of `app` over its current delivery mode (Socket Mode
    /// or HTTP). False for an unknown kind or app.
    func inject(kind: String, count: Int, app: Int = 0, now: Double) -> Bool {
        core.inject(kind: kind, count: count, app: app, now: now)
    }

    /// The integer value of `name` in a query string (`app=1&x=y`).
    static func queryInt(_ query: String, _ name: String) -> Int? {
        for pair in query.split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return Int(kv[1]) }
        }
        return nil
    }

    /// The report (service thread). In HTTP delivery mode its totals and latencies include
    /// the HTTP deliveries (`delivered` = POST attempts, `acked` = 2xx, `redelivered` =
    /// retries), `http` has the HTTP details, and an HTTP load run sets the elapsed time,
    /// rate, send lag and verdict.
    func fullReport(now: Double) -> SimReport {
        guard let http else { return core.report(now: now, cpuNow: Self.threadCPU()) }
        drainHTTP(now: now)
        let h = http.reportParts
        var r = core.report(now: now, cpuNow: Self.threadCPU(), extra: (h.counters.delivery, h.latency))
        r.http = h.counters
        r.inFlight += h.inFlight
        r.queued += h.retrying
        // The HTTP load run's figures, unless a Socket Mode run started after it.
        if let l = h.load, (core.load?.startedAt ?? -.infinity) <= l.startedAt {
            r.loadApps = nil
            r.elapsedSeconds = max(1e-9, (l.finishedAt ?? now) - l.startedAt)
            r.envelopesPerSecond = Double(r.total.acked) / r.elapsedSeconds
            // Worker CPU over the time the workers could have used (at most one core each).
            let cores = Double(min(h.workers, ProcessInfo.processInfo.activeProcessorCount))
            let busy = min(1, ((l.cpuAtEnd ?? h.workerCPU) - l.cpuAtStart) / (r.elapsedSeconds * cores))
            let rateRunMaxLag: Double? = if case .rate = l.mode { l.maxLag } else { nil }
            r.recordLoad(busy: busy, rateRunMaxLag: rateRunMaxLag)
        }
        r.settleLosses()
        return r
    }

    /// Starts a load run (service thread) for an app in its current delivery mode: over
    /// Socket Mode (the core's generator; if the app is switched to HTTP meanwhile, the
    /// rest goes over HTTP) or as POSTs to its Request URL (HTTP delivery's generator,
    /// which stays on HTTP). Returns nil, or the error code: `unknown_app`,
    /// `invalid_arguments` (a rate ≤ 0, a negative total, a bad app list, several apps
    /// with one in HTTP mode), `load_running` (HTTP mode).
    @discardableResult
    func startLoad(_ spec: LoadSpec, now: Double) -> String? {
        do throws(LoadRefusal) { try startLoadOrExplain(spec, now: now) } catch { return error.code }
        return nil
    }

    /// `startLoad`, throwing the reason it did not start. A run over several apps
    /// (`spec.apps` with two or more) is Socket Mode only: if one of them is in HTTP
    /// delivery mode at the start it is refused (`invalid_arguments`); a one-app list is
    /// the same as `app`.
    func startLoadOrExplain(_ spec: LoadSpec, now: Double) throws(LoadRefusal) {
        let list = try spec.appIndices(appCount: core.appCount)
        guard spec.total >= 0, (spec.rate ?? 1) > 0 else {
            throw LoadRefusal(code: "invalid_arguments", message: "total must be ≥ 0 and rate > 0")
        }
        func mix(for app: Int) -> [Int] {
            var mix: [Int] = []
            for kind in spec.kinds ?? [] { if let t = core.template(kind: kind, app: app) { mix.append(t) } }
            for size in spec.sizes ?? [] { mix.append(core.sizedMessage(size: size, app: app)) }
            return mix
        }
        if list.count > 1 {
            if let http = list.first(where: { core.mode(app: $0) == .http }) {
                throw LoadRefusal(code: "invalid_arguments",
                                  message: "app \(http) is in HTTP delivery mode: a load run over several apps is Socket Mode only")
            }
            guard core.startLoad(rate: spec.rate, window: spec.window, total: spec.total, mixes: list.map(mix(for:)), apps: list,
                                 now: now, cpuNow: Self.threadCPU())
            else { throw LoadRefusal(code: "invalid_arguments", message: "the load run could not start") }
            return
        }
        let app = list[0]
        var mix = mix(for: app)
        if core.mode(app: app) == .http {
            let http = startHTTP(routes: routes)
            if mix.isEmpty, let t = core.template(kind: "message", app: app) { mix.append(t) }
            let mode: HTTPLoadState.Mode = spec.rate.map { .rate($0) } ?? .window(max(1, spec.window ?? 1000))
            guard http.startLoad(mode, total: spec.total, mix: mix.map { ($0, core.templates[$0]) }, app: app, firstEvent: core.nextEvent)
            else { throw LoadRefusal(code: "load_running", message: "an HTTP load run is still going") }
            core.nextEvent += UInt64(spec.total)
            return
        }
        guard core.startLoad(rate: spec.rate, window: spec.window, total: spec.total, mix: mix, app: app, now: now,
                             cpuNow: Self.threadCPU())
        else { throw LoadRefusal(code: "unknown_app", message: "app \(app), but the config has \(core.appCount) app(s)") }
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
    /// Index of the app to load (nil: the first, unless `apps` is given).
    public var app: Int?
    /// Indices of several apps to load round-robin (envelope *i* goes to `apps[i % n]`);
    /// not together with `app`. Socket Mode only when it has two or more.
    public var apps: [Int]?
    public init(rate: Double? = nil, window: Int? = nil, total: Int, kinds: [String]? = nil, sizes: [Int]? = nil, app: Int? = nil,
                apps: [Int]? = nil) {
        self.rate = rate; self.window = window; self.total = total; self.kinds = kinds; self.sizes = sizes; self.app = app
        self.apps = apps
    }

    /// The app indices the run loads, in round-robin order: `apps`, or `[app ?? 0]`.
    /// Throws `invalid_arguments` when both are given, for an empty list or an index
    /// listed twice, and `unknown_app` for an index the config (of `appCount` apps) lacks.
    public func appIndices(appCount: Int) throws(LoadRefusal) -> [Int] {
        if app != nil, apps != nil { throw LoadRefusal(code: "invalid_arguments", message: "give app or apps, not both") }
        let list = apps ?? [app ?? 0]
        guard !list.isEmpty else { throw LoadRefusal(code: "invalid_arguments", message: "apps is empty") }
        if let bad = list.first(where: { !(0..<appCount).contains($0) }) {
            throw LoadRefusal(code: "unknown_app", message: "app \(bad), but the config has \(appCount) app(s)")
        }
        var seen = Set<Int>()
        if let twice = list.first(where: { !seen.insert($0).inserted }) {
            throw LoadRefusal(code: "invalid_arguments", message: "app \(twice) is listed twice")
        }
        return list
    }

    /// The apps of the command line's `--load-app N` / `--load-apps all|I,J,…` (at most
    /// one of them; neither: app 0), checked against a config of `appCount` apps.
    /// Returns the `app`/`apps` pair for a `LoadSpec`.
    public static func commandLineApps(loadApp: Int?, loadApps: String?, appCount: Int) throws(LoadRefusal) -> (app: Int?, apps: [Int]?) {
        guard let loadApps else {
            let app = loadApp ?? 0
            _ = try LoadSpec(total: 0, app: app).appIndices(appCount: appCount)
            return (app, nil)
        }
        if loadApp != nil {
            throw LoadRefusal(code: "invalid_arguments", message: "--load-app and --load-apps are mutually exclusive")
        }
        let text = loadApps.trimmingCharacters(in: .whitespaces)
        let list: [Int]
        if text == "all" {
            list = Array(0..<appCount)
        } else {
            var parsed: [Int] = []
            for part in text.split(separator: ",", omittingEmptySubsequences: false) {
                guard let i = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw LoadRefusal(code: "invalid_arguments",
                                      message: "--load-apps \(loadApps): expected all or comma-separated app indices")
                }
                parsed.append(i)
            }
            list = parsed
        }
        do throws(LoadRefusal) {
            return (nil, try LoadSpec(total: 0, apps: list).appIndices(appCount: appCount))
        } catch {
            throw LoadRefusal(code: error.code, message: "--load-apps \(loadApps): " + error.message)
        }
    }
}

/// Why a load run did not start: an admin error code (`unknown_app`,
/// `invalid_arguments`, `load_running`) and a sentence for a person.
public struct LoadRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var code: String
    public var message: String
    public init(code: String, message: String) { self.code = code; self.message = message }
    public var description: String { "\(code): \(message)" }
}
