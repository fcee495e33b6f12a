import DequeModule
import Foundation
import SockeyeSlackSignature

/// The HTTP twin of Socket Mode delivery: the same payloads POSTed to each app's Request
/// URLs (`HTTPRoute`: `http://` or `https://`), signed like Slack (v0), events retried with
/// `X-Slack-Retry-Num` / `X-Slack-Retry-Reason` (up to 3, `X-Slack-No-Retry: 1`
/// honoured), slash commands form-encoded and interactivity as a `payload=` form field.
///
/// `SimConfig.httpConnections` worker threads each own one keep-alive connection and send
/// one request at a time, so that is also the number of concurrent requests. Payloads
/// wait in a FIFO; retries wait in one FIFO per retry number (their delays are fixed, so
/// each stays ordered by due time). `HTTPDelivery+Load` drives load runs through it.
///
/// Apps are switched in and out at run time (`setRoute`): a payload of an app that has no
/// route any more (its delivery went back to Socket Mode) is handed back instead of sent.
/// Every payload that leaves — acked, given up or handed back — is listed for the service
/// thread (`takeSettled`), which records acked events and responses; `wake` tells it.
public final class HTTPDelivery: @unchecked Sendable {
    /// Counters of the HTTP delivery mode.
    public struct Counters: Codable, Sendable, Equatable {
        /// POST attempts made (first tries and retries).
        public var attempts = 0
        /// Attempts answered with 2xx.
        public var acked = 0
        /// Retry attempts (sent with `X-Slack-Retry-Num`).
        public var retries = 0
        /// Payloads given up on: `failedAfterRetries` + `userVisibleFailures`.
        public var failed = 0
        /// Events whose last attempt failed, or that the app refused with `X-Slack-No-Retry: 1`.
        public var failedAfterRetries = 0
        /// Slash commands and interactions whose only attempt failed (the user sees an error).
        public var userVisibleFailures = 0
        /// Failures the app asked not to retry (`X-Slack-No-Retry: 1`).
        public var noRetry = 0
        /// Attempts answered with a status other than 2xx (`http_error`).
        public var httpErrors = 0
        /// Attempts without a reply within `ackDeadline` (`http_timeout`).
        public var timeouts = 0
        /// Attempts whose TCP connect or TLS handshake failed (`connection_failed`).
        public var connectionFailures = 0
        /// Of those, failed TLS handshakes (e.g. an untrusted certificate).
        public var tlsFailures = 0
        /// The last connect or TLS error, e.g. `TLS with 127.0.0.1:8443: certificate
        /// verify failed: self-signed certificate`.
        public var lastError: String?
        /// Connections opened to the Request URL (fewer than `attempts` with keep-alive).
        public var connectionsOpened = 0
        /// From the intended send time to the 2xx reply.
        public var latencyMs = LatencySummary()

        /// The same figures as Socket Mode delivery counters.
        var delivery: DeliveryCounters {
            var d = DeliveryCounters()
            d.delivered = attempts; d.acked = acked; d.redelivered = retries
            d.failedAfterRetries = failedAfterRetries; d.userVisibleFailures = userVisibleFailures
            return d
        }
    }

    /// One payload to POST (first attempt or retry).
    struct Job {
        var body: [UInt8]
        var contentType: String
        var type: EnvelopeType
        var isEvent: Bool { type == .eventsAPI }
        var attempt = 0
        var reason: String?
        /// Intended send time (monotonic seconds): latency runs from here.
        var intendedAt: Double
        /// First attempt of a load run: its send lag is tracked.
        var fromLoad = false
        /// Index of the app the payload is for.
        var app = 0
        /// The simulator's template index (-1: unknown) and the event number rendered into it.
        var template = -1
        var eventNumber: UInt64 = 0
        /// Handed over by `SimCore`, which counts it as in flight until it settles.
        var fromCore = false
        /// Handed over by `SimCore` from its load run (a Socket Mode run whose app went to
        /// HTTP): its outcome counts in the run's per-app totals.
        var fromCoreLoad = false
    }

    /// A payload that left HTTP delivery, for the service thread.
    struct Settled {
        enum Outcome {
            /// Answered 2xx; `body` is the reply body of a slash command or interaction.
            case acked(body: [UInt8])
            case failed
            /// Its app went back to Socket Mode: deliver it there (`job.attempt` is the
            /// attempt to make, `job.reason` set for a retry).
            case handBack
        }
        var job: Job
        var outcome: Outcome
    }

    let config: SimConfig
    /// Guards everything below; workers and the load driver wait on it.
    let cond = NSCondition()
    private var ready: Deque<Job> = []
    private var retryQueues: [Deque<(due: Double, job: Job)>]
    /// Payloads not settled yet: queued, being sent, or waiting for a retry.
    private(set) var outstanding = 0
    private var sending = 0
    private var counters = Counters()
    /// Where each app's payloads go; an app without a route is not delivered over HTTP.
    private var routes: [Int: HTTPRoute]
    /// Payloads that left, waiting for the service thread.
    private var settled: [Settled] = []
    /// Tells the service thread that `settled` is no longer empty (called without the lock).
    private let wake: @Sendable () -> Void
    private var latency = LatencyRecorder()
    /// CPU seconds the workers spent, all together.
    var workerCPU = 0.0
    var loadState: HTTPLoadState?
    private(set) var stopping = false
    private var workersAlive = 0
    private let workersDone = DispatchSemaphore(value: 0)
    /// The clock used for `X-Slack-Request-Timestamp`.
    var timestamp: @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }

    /// Starts the workers. `routes`: the apps delivered over HTTP from the start.
    init(config: SimConfig, routes: [Int: HTTPRoute], wake: @escaping @Sendable () -> Void = {}) {
        signal(SIGPIPE, SIG_IGN)
        self.config = config
        self.routes = routes
        self.wake = wake
        retryQueues = Array(repeating: [], count: config.retryDelays.count + 1)
        let n = max(1, config.httpConnections)
        workersAlive = n
        for i in 0..<n {
            let t = Thread { [self] in workerLoop() }
            t.name = "sockeye-sim-http-\(i)"
            t.start()
        }
    }

    /// Checks the Request URL (and loads `caFile` for `https://`) and starts the workers,
    /// delivering every app of `config` to it. Ignores SIGPIPE process-wide (as
    /// libwebsockets does): OpenSSL writes with write(2), and an app that closed its end
    /// must fail the attempt, not end the process.
    public convenience init(requestURL: String, signingSecret: String, config: SimConfig, caFile: String? = nil) throws {
        let route = try HTTPRoute(events: requestURL, secret: signingSecret, caFile: caFile)
        self.init(config: config, routes: Dictionary(uniqueKeysWithValues: config.apps.indices.map { ($0, route) }))
    }

    /// The first app's Events API Request URL ("" when it has none).
    public var requestURL: String { route(app: 0)?.events ?? "" }

    /// The route of `app`, nil when it is not delivered over HTTP.
    public func route(app: Int) -> HTTPRoute? { cond.lock(); defer { cond.unlock() }; return routes[app] }

    /// Sends `app`'s later payloads along `route`, or (nil) stops delivering `app` over
    /// HTTP: its queued payloads and scheduled retries are removed and returned, to be
    /// delivered over Socket Mode; payloads being sent finish, and are handed back if
    /// they need a retry.
    func setRoute(app: Int, _ route: HTTPRoute?) -> [Job] {
        cond.lock()
        routes[app] = route
        var removed: [Job] = []
        if route == nil {
            removed = ready.filter { $0.app == app }
            ready.removeAll { $0.app == app }
            for q in retryQueues.indices {
                removed += retryQueues[q].filter { $0.job.app == app }.map(\.job)
                retryQueues[q].removeAll { $0.job.app == app }
            }
            for _ in removed { settle(now: SimServer.monotonic()) }
        }
        cond.broadcast()
        cond.unlock()
        return removed
    }

    /// Payloads that left since the last call (service thread).
    func takeSettled() -> [Settled] {
        cond.lock(); defer { cond.unlock() }
        let out = settled
        settled = []
        return out
    }

    /// Lists a payload that left (lock held); true when the list was empty before, so
    /// the caller must call `wake` once it released the lock.
    private func list(_ job: Job, _ outcome: Settled.Outcome) -> Bool {
        settled.append(Settled(job: job, outcome: outcome))
        return settled.count == 1
    }

    /// Stops the workers (a request in progress ends within `ackDeadline`) and the load
    /// driver; pending payloads are dropped. Safe to call twice.
    public func stop() {
        cond.lock()
        let wasStopping = stopping
        stopping = true
        let alive = workersAlive
        cond.broadcast()
        cond.unlock()
        if wasStopping { return }
        for _ in 0..<alive { workersDone.wait() }
    }

    /// A snapshot of the counters.
    public var snapshot: Counters {
        cond.lock(); defer { cond.unlock() }
        var c = counters
        c.latencyMs = latency.summary
        return c
    }

    /// Everything the report needs, taken at one instant.
    struct ReportParts {
        var counters: Counters
        var latency: LatencyRecorder
        var load: HTTPLoadState?
        var workerCPU: Double
        /// Payloads being sent or waiting for a worker.
        var inFlight: Int
        /// Retries waiting for their time.
        var retrying: Int
        var workers: Int
    }

    var reportParts: ReportParts {
        cond.lock(); defer { cond.unlock() }
        var c = counters
        c.latencyMs = latency.summary
        return ReportParts(counters: c, latency: latency, load: loadState, workerCPU: workerCPU, inFlight: sending + ready.count,
                           retrying: retryQueues.reduce(0) { $0 + $1.count }, workers: max(1, config.httpConnections))
    }

    /// Payloads not finished yet (including scheduled retries).
    public var inFlight: Int { cond.lock(); defer { cond.unlock() }; return outstanding }

    /// The request body and content type Slack uses for `template`.
    public static func body(for template: PayloadTemplate, eventNumber: UInt64) -> (body: [UInt8], contentType: String) {
        let payload = template.render(eventNumber: eventNumber)
        switch template.type {
        case .eventsAPI:
            return (payload, "application/json")
        case .interactive:
            return (Array(("payload=" + formEscape(String(decoding: payload, as: UTF8.self))).utf8), "application/x-www-form-urlencoded")
        case .slashCommands:
            let obj = (try? JSONSerialization.jsonObject(with: Data(payload))) as? [String: Any] ?? [:]
            let fields = obj.keys.sorted().map { k in "\(formEscape(k))=\(formEscape("\(obj[k]!)"))" }
            return (Array(fields.joined(separator: "&").utf8), "application/x-www-form-urlencoded")
        }
    }

    static func formEscape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s).replacingOccurrences(of: "%20", with: "+")
    }

    /// Delivers one payload for the first app (asynchronously, with retries).
    public func deliver(_ template: PayloadTemplate, eventNumber: UInt64) {
        let (body, contentType) = Self.body(for: template, eventNumber: eventNumber)
        submit(Job(body: body, contentType: contentType, type: template.type, intendedAt: SimServer.monotonic(), eventNumber: eventNumber))
    }

    /// Queues a first attempt. `isLoad`: it belongs to the running load (counted as issued).
    func submit(_ job: Job, isLoad: Bool = false) {
        cond.lock()
        outstanding += 1
        if isLoad { loadState?.issued += 1 }
        ready.append(job)
        cond.broadcast()
        cond.unlock()
    }

    // MARK: workers

    private func workerLoop() {
        // One keep-alive connection per target this worker has sent to.
        var connections: [ObjectIdentifier: HTTPClientConnection] = [:]
        while let (job, route) = nextJob() {
            let cpu0 = SimServer.threadCPU()
            let target = route.target(for: job.type)
            let connection = connections[ObjectIdentifier(target)] ?? HTTPClientConnection(target: target)
            connections[ObjectIdentifier(target)] = connection
            let opened = connection.opened
            let ts = String(timestamp())
            var headers: [(String, String)] = [
                ("Content-Type", job.contentType),
                ("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)"),
                ("X-Slack-Request-Timestamp", ts),
                ("X-Slack-Signature", SlackRequestSignature.sign(secret: Array(route.secret.utf8), timestamp: ts, body: job.body)),
            ]
            if let reason = job.reason { headers += [("X-Slack-Retry-Num", String(job.attempt)), ("X-Slack-Retry-Reason", reason)] }
            let outcome: HTTPRetryPolicy.Outcome
            var failure: String?
            var tlsFailed = false
            var replyBody: [UInt8] = []
            do {
                let r = try connection.post(headers: headers, body: job.body, deadline: SimServer.monotonic() + config.ackDeadline)
                outcome = .status(r.status, noRetry: r.headers["x-slack-no-retry"] == "1")
                if !job.isEvent { replyBody = r.body }
            } catch HTTPStream.Failure.timeout {
                outcome = .timeout
            } catch HTTPStream.Failure.tls(let message) {
                outcome = .connectionFailed; failure = message; tlsFailed = true
            } catch HTTPStream.Failure.connect(let message) {
                outcome = .connectionFailed; failure = message
            } catch {
                outcome = .connectionFailed; failure = "\(target.hostHeader): connection closed before a complete reply"
            }
            finish(job, outcome, reply: replyBody, error: failure, tls: tlsFailed, newConnections: connection.opened - opened,
                   cpu: SimServer.threadCPU() - cpu0, now: SimServer.monotonic())
        }
        for c in connections.values { c.close() }
        cond.lock(); workersAlive -= 1; cond.unlock()
        workersDone.signal()
    }

    /// The next job to send and its route (first attempts in order, then due retries);
    /// nil when stopping. Jobs of an app without a route are handed back.
    private func nextJob() -> (Job, HTTPRoute)? {
        cond.lock()
        var mustWake = false
        defer { cond.unlock(); if mustWake { wake() } }
        while !stopping {
            let now = SimServer.monotonic()
            for q in retryQueues.indices {
                while let first = retryQueues[q].first, first.due <= now {
                    retryQueues[q].removeFirst()
                    ready.append(first.job)
                }
            }
            if let job = ready.popFirst() {
                guard let route = routes[job.app] else {
                    if list(job, .handBack) { mustWake = true }
                    settle(now: now)
                    continue
                }
                sending += 1
                if job.fromLoad, var l = loadState {
                    l.maxLag = max(l.maxLag, now - job.intendedAt)
                    loadState = l
                }
                return (job, route)
            }
            if let due = retryQueues.compactMap({ $0.first?.due }).min() {
                _ = cond.wait(until: Date(timeIntervalSinceNow: max(0.001, due - now)))
            } else {
                cond.wait()
            }
        }
        return nil
    }

    private func finish(_ job: Job, _ outcome: HTTPRetryPolicy.Outcome, reply: [UInt8], error: String?, tls: Bool, newConnections: Int,
                        cpu: Double, now: Double) {
        let decision = HTTPRetryPolicy.decide(attempt: job.attempt, outcome: outcome, isEvent: job.isEvent, delays: config.retryDelays)
        cond.lock()
        var mustWake = false
        defer { cond.unlock(); if mustWake { wake() } }
        sending -= 1
        workerCPU += cpu
        counters.attempts += 1
        counters.connectionsOpened += newConnections
        if job.attempt > 0 { counters.retries += 1 }
        switch outcome {
        case .status(let s, _) where !(200..<300).contains(s): counters.httpErrors += 1
        case .timeout: counters.timeouts += 1
        case .connectionFailed:
            counters.connectionFailures += 1
            if tls { counters.tlsFailures += 1 }
            if let error { counters.lastError = error }
        case .status: break
        }
        switch decision {
        case .acked:
            counters.acked += 1
            latency.record(microseconds: UInt64(max(0, now - job.intendedAt) * 1_000_000))
            if list(job, .acked(body: reply)) { mustWake = true }
            settle(now: now)
        case .failed(let noRetry):
            counters.failed += 1
            if job.isEvent { counters.failedAfterRetries += 1 } else { counters.userVisibleFailures += 1 }
            if noRetry { counters.noRetry += 1 }
            if list(job, .failed) { mustWake = true }
            settle(now: now)
        case .retry(let next, let delay, let why):
            var j = job
            j.attempt = next
            j.reason = why
            j.fromLoad = false
            j.intendedAt = now + config.real(delay)
            if routes[job.app] == nil {
                if list(j, .handBack) { mustWake = true }
                settle(now: now)
            } else {
                retryQueues[min(next, retryQueues.count - 1)].append((j.intendedAt, j))
            }
        }
        cond.broadcast()
    }

    /// One payload is done (lock held); marks a load run finished with its last payload.
    private func settle(now: Double) {
        outstanding -= 1
        if var l = loadState, l.finishedAt == nil, l.issued >= l.total, outstanding == 0 {
            l.finishedAt = now
            l.cpuAtEnd = workerCPU
            loadState = l
        }
    }

    /// Sends Slack's `url_verification` challenge to `app`'s Events API Request URL; true
    /// when the app echoed it back (plain text, `challenge=` form or JSON `{"challenge":…}`).
    public func verifyURL(app: Int = 0) -> Bool {
        guard let route = route(app: app) else { return false }
        var rng = FastRandom()
        let challenge = EnvelopeUUID.random(&rng).description.replacingOccurrences(of: "-", with: "")
        let body = Array(#"{"token":"sim-verification-token","challenge":"\#(challenge)","type":"url_verification"}"#.utf8)
        let ts = String(timestamp())
        let headers = [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", ts),
                       ("X-Slack-Signature", SlackRequestSignature.sign(secret: Array(route.secret.utf8), timestamp: ts, body: body))]
        let connection = HTTPClientConnection(target: route.eventsTarget)
        defer { connection.close() }
        guard let r = try? connection.post(headers: headers, body: body, deadline: SimServer.monotonic() + config.ackDeadline),
              (200..<300).contains(r.status) else { return false }
        let text = String(decoding: r.body, as: UTF8.self)
        if text == challenge || text == "challenge=\(challenge)" { return true }
        let obj = (try? JSONSerialization.jsonObject(with: Data(r.body))) as? [String: Any]
        return obj?["challenge"] as? String == challenge
    }
}
