import DequeModule

/// Identifies one accepted WebSocket (or a ghost registration).
public struct ServerConnectionID: Hashable, Sendable, CustomStringConvertible {
    public let raw: UInt64
    public init(_ raw: UInt64) { self.raw = raw }
    public var description: String { "c\(raw)" }
}

/// Slack's side of Socket Mode without any I/O: tickets, the per-app connection registry,
/// hello/disconnect, delivery with ack deadlines and redelivery, refresh schedules and the
/// load generator. Time comes in as `now` (seconds, monotonic) on every call.
///
/// The transport feeds it socket events and drains, per connection, framed output bytes
/// (`takeOutput`) plus a close/drop request once the output is flushed. Not thread-safe:
/// one owner (the service thread) calls it.
public final class SimCore {
    /// State of one registered connection.
    public enum State: String, Sendable { case live, refreshing, ghost, rejected, closing }

    /// How the transport should end a connection once its output is flushed.
    public enum Ending: Equatable, Sendable {
        case close(code: UInt16, reason: String)
        /// Drop TCP without a close frame; `reset` sends RST instead of FIN.
        case drop(reset: Bool)
    }

    final class Conn {
        let id: ServerConnectionID
        let app: Int
        var state: State = .live
        let openedAt: Double
        var expiresAt: Double
        var warningAt: Double?
        var helloAt: Double
        var helloSent = false
        var pendingLifetime: Double = 0
        var nextPingAt: Double
        var unansweredPings = 0
        var out: [UInt8] = []
        var ending: Ending?
        var endAt: Double?
        var ghostUntil: Double?
        var counters = DeliveryCounters()
        var latency = LatencyRecorder()
        /// Transport-level fault flags (read by the transport).
        var stalled = false
        /// Already listed in `wantWrite`.
        var listed = false
        var halfOpen = false

        init(id: ServerConnectionID, app: Int, now: Double, expiresAt: Double, pingAt: Double) {
            self.id = id; self.app = app; openedAt = now; self.expiresAt = expiresAt
            helloAt = now; nextPingAt = pingAt
        }
    }

    final class AppState {
        let config: SimConfig.App
        /// Opaque hex id used in the connection URL.
        let key: String
        var connections: [ServerConnectionID] = []
        var rr = 0
        var openCalls: Deque<Double> = []
        /// The events disabling rule, counted over this app's deliveries alone (Slack
        /// applies it per app).
        var disableRule: EventsDisableRule
        /// Events are disabled for this app (by the rule or the admin API) and dropped.
        var eventsDisabled = false
        /// This app's events dropped while disabled.
        var droppedWhileDisabled = 0
        /// This app's built-in `app_rate_limited` template.
        var rateLimitedTemplate: Int?
        /// How this app's payloads are delivered now (SimCore+DeliveryMode).
        var mode: DeliveryMode = .socket
        /// The current load run's envelopes for this app acked and lost for good (reset
        /// when a run starts; `SimReport.loadApps`).
        var loadAcked = 0
        var loadLost = 0
        /// `apps.connections.open` calls answered with a URL, and with an error.
        var openURLs = 0
        var openErrors = 0
        /// The most registrations (ghosts included) the app ever had at once.
        var peakConnections = 0
        /// Connections answered with `too_many_websockets`.
        var tooManyRejections = 0
        /// Since when the app has had no connection (after its first one), and the longest
        /// such time that ended, in real seconds.
        var withoutConnectionSince: Double?
        var longestWithoutConnection: Double = 0
        var everConnected = false
        init(config: SimConfig.App, key: String, disableRule: EventsDisableRule) {
            self.config = config; self.key = key; self.disableRule = disableRule
        }
    }

    struct Ticket { let app: Int; let expiresAt: Double }

    public internal(set) var config: SimConfig
    var apps: [AppState] = []
    var conns: [ServerConnectionID: Conn] = [:]
    var tickets: [String: Ticket] = [:]
    var nextConnection: UInt64 = 1
    var rng: FastRandom
    /// Connections with output (or an ending) waiting; the transport asks lws for a
    /// writeable callback on each and empties the list.
    public var wantWrite: [ServerConnectionID] = []
    var closedReports: Deque<ConnectionReport> = []
    var retiredCounters = DeliveryCounters()
    var retiredLatency = LatencyRecorder()
    public internal(set) var connectionsOpened = 0
    public internal(set) var connectionsRefused = 0
    /// Connections answered with `too_many_websockets` instead of hello.
    public internal(set) var tooManyRejections = 0
    /// Refuse WebSocket upgrades until this time (fault).
    public var refuseUntil: Double = 0
    /// Delay before `hello` on new connections, real seconds (fault "slow hello").
    public var helloDelay: Double = 0
    /// Error mode of `apps.connections.open` (nil: behave normally).
    public var openErrorMode: OpenErrorMode?

    // Delivery state (SimCore+Delivery.swift).
    var templates: [PayloadTemplate] = []
    /// `templates[i].type == .eventsAPI`, kept apart so the hot path copies no template.
    var templateIsEvent: [Bool] = []
    /// Per kind, the template index for each app (SimCore+Templates).
    var templateByKind: [String: [Int]] = [:]
    var table = PendingTable()
    var deadlines: Deque<(EnvelopeUUID, Double)> = []
    var retryQueues: [Deque<(Double, Work)>] = [[], [], [], []]
    var waiting: Deque<Work> = []
    var nextEvent: UInt64 = 1
    /// Events (with an event id) acked at least once, over Socket Mode or HTTP.
    var ackedEvents = AckedEvents()
    /// Per template: the payload's type for the responses log (`/deploy`, `view_submission`, …).
    var templateLabel: [String] = []
    /// Work for apps in HTTP mode, waiting for the transport to POST it (SimCore+DeliveryMode).
    var httpOut: [Work] = []
    /// Work handed to HTTP delivery and not settled yet.
    var httpInFlight = 0
    /// Ack payloads and HTTP reply bodies (`GET /admin/responses`).
    var responses = ResponseLog()
    var load: LoadRun?
    var startedAt: Double
    /// Slack's OAuth side: codes, installations, tokens (`OAuthState`).
    let oauth: OAuthState
    /// Per-installation copies of payload kinds, by `InstallationPayloads.cacheKey`.
    var installationTemplates: [String: Int] = [:]

    public init(config: SimConfig, now: Double, seed: UInt64? = nil) {
        self.config = config
        rng = seed.map(FastRandom.init(seed:)) ?? FastRandom()
        startedAt = now
        oauth = OAuthState(config: config)
        for app in config.apps {
            var key = ""
            for _ in 0..<4 { key += String(rng.next(), radix: 16).leftPad(16) }
            let rule = EventsDisableRule(window: config.real(config.disableWindow), minDeliveries: config.disableMinDeliveries,
                                         minAckRatio: config.disableMinAckRatio, now: now)
            apps.append(AppState(config: app, key: key, disableRule: rule))
        }
        registerBuiltins()
    }

    // MARK: tickets

    /// Issues a single-use ticket for `app` and returns the connection URL.
    public func issueURL(app: Int, port: Int, tls: Bool, now: Double) -> String {
        let ticket = EnvelopeUUID.random(&rng).description
        tickets[ticket] = Ticket(app: app, expiresAt: now + config.real(config.ticketTTL))
        if tickets.count > 10_000 { tickets = tickets.filter { $0.value.expiresAt > now } }
        return "\(tls ? "wss" : "ws")://\(config.host):\(port)/link/?ticket=\(ticket)&app_id=\(apps[app].key)"
    }

    /// Checks and consumes a ticket at upgrade time. Returns the app index, or nil for an
    /// unknown, reused or expired ticket, a wrong `app_id`, or while refusing connects.
    public func admit(ticket: String, appKey: String, now: Double) -> Int? {
        guard now >= refuseUntil, let t = tickets.removeValue(forKey: ticket), t.expiresAt > now,
              apps[t.app].key == appKey
        else { connectionsRefused += 1; return nil }
        return t.app
    }

    // MARK: connections

    /// A WebSocket finished its handshake. Registers it and queues `hello`, or, when the
    /// app already has `maxConnectionsPerApp` registrations, `too_many_websockets` + close.
    @discardableResult
    public func opened(app: Int, debugReconnects: Bool, now: Double) -> ServerConnectionID {
        let id = ServerConnectionID(nextConnection)
        nextConnection += 1
        let lifetime = config.real(debugReconnects ? config.debugConnectionLifetime : config.connectionLifetime)
        let c = Conn(id: id, app: app, now: now, expiresAt: now + lifetime,
                     pingAt: config.pingInterval > 0 ? now + config.pingInterval : .infinity)
        conns[id] = c
        let a = apps[app]
        if a.connections.count >= config.maxConnectionsPerApp {
            c.state = .rejected
            c.helloSent = true
            tooManyRejections += 1
            a.tooManyRejections += 1
            appendText(c, #"{"type":"disconnect","reason":"too_many_websockets","debug_info":{"host":"\#(config.podName)"}}"#)
            c.ending = .close(code: 1000, reason: "")
            return id
        }
        connectionsOpened += 1
        a.connections.append(id)
        noteConnections(app: app, now: now)
        if config.warningProbability > 0, Double(rng.next() % 1_000_000) / 1_000_000 < config.warningProbability {
            c.warningAt = c.expiresAt - config.real(config.warningLead)
        }
        c.helloAt = now + helloDelay
        c.helloSent = false
        if helloDelay <= 0 { sendHello(c, lifetime: debugReconnects ? config.debugConnectionLifetime : config.connectionLifetime, now: now) }
        else { c.pendingLifetime = debugReconnects ? config.debugConnectionLifetime : config.connectionLifetime }
        return id
    }

    func sendHello(_ c: Conn, lifetime: Double, now: Double) {
        c.helloSent = true
        let a = apps[c.app]
        appendText(c, #"{"type":"hello","num_connections":\#(a.connections.count),"debug_info":{"host":"\#(config.podName)","build_number":\#(config.buildNumber),"approximate_connection_time":\#(Int(lifetime))},"connection_info":{"app_id":"\#(a.config.appID)"}}"#)
        flushWaiting(app: c.app, now: now)
    }

    /// The socket closed. `clean` is true when a close frame was exchanged. With
    /// `ghostOnUncleanClose`, an unclean loss leaves a ghost registration behind.
    public func closed(_ id: ServerConnectionID, clean: Bool, now: Double) {
        guard let c = conns[id] else { return }
        c.out = []
        if !clean, config.ghostOnUncleanClose, c.state == .live {
            c.state = .ghost
            c.ghostUntil = now + config.real(config.ghostTTL)
            noteConnections(app: c.app, now: now)
            return
        }
        retire(c)
        noteConnections(app: c.app, now: now)
    }

    /// Updates the app's peak registrations and its time without a connection (a ghost is
    /// registered, but carries nothing).
    func noteConnections(app: Int, now: Double) {
        let a = apps[app]
        a.peakConnections = max(a.peakConnections, a.connections.count)
        let serving = a.connections.contains { conns[$0].map { $0.state != .ghost && $0.state != .rejected } ?? false }
        if serving {
            a.everConnected = true
            if let since = a.withoutConnectionSince {
                a.longestWithoutConnection = max(a.longestWithoutConnection, now - since)
                a.withoutConnectionSince = nil
            }
        } else if a.everConnected, a.withoutConnectionSince == nil {
            a.withoutConnectionSince = now
        }
    }

    func retire(_ c: Conn) {
        conns.removeValue(forKey: c.id)
        apps[c.app].connections.removeAll { $0 == c.id }
        retiredCounters.add(c.counters)
        retiredLatency.add(c.latency)
        closedReports.append(report(c))
        if closedReports.count > 64 { closedReports.removeFirst() }
    }

    /// Registers `count` ghost connections for `app` that count toward the limit and
    /// swallow payloads until `ttl` real seconds pass.
    @discardableResult
    public func addGhosts(app: Int, count: Int, ttl: Double, now: Double) -> [ServerConnectionID] {
        (0..<count).map { _ in
            let id = opened(app: app, debugReconnects: false, now: now)
            if let c = conns[id] {
                c.out = []
                if c.state == .rejected { retire(c) } else { c.state = .ghost; c.ghostUntil = now + ttl }
            }
            return id
        }
    }

    /// Sends `disconnect` with `reason` to one connection (or all live ones of `app`; none
    /// for an unknown app). `link_disabled` and `refresh_requested` are followed by a close
    /// after the refresh delay.
    public func disconnect(reason: String, connection: ServerConnectionID? = nil, app: Int = 0, now: Double) {
        let targets = connection.map { [$0] } ?? (apps.indices.contains(app) ? apps[app].connections : [])
        for id in targets {
            guard let c = conns[id], c.state == .live || c.state == .refreshing else { continue }
            appendText(c, #"{"type":"disconnect","reason":"\#(reason)","debug_info":{"host":"\#(config.podName)"}}"#)
            if reason != "warning" {
                c.state = .refreshing
                c.endAt = now + config.real(config.refreshCloseDelay)
            }
        }
    }

    /// Ends a connection abruptly or with a close frame (faults and admin).
    public func end(_ id: ServerConnectionID, _ ending: Ending) {
        guard let c = conns[id] else { return }
        c.ending = ending
        c.state = .closing
        markWritable(id)
    }

    /// Marks a connection stalled (the transport stops reading) or half-open (stops reading
    /// and writing, keeps TCP open).
    public func setFault(_ id: ServerConnectionID, stalled: Bool? = nil, halfOpen: Bool? = nil) {
        guard let c = conns[id] else { return }
        if let stalled { c.stalled = stalled }
        if let halfOpen { c.halfOpen = halfOpen; if halfOpen { c.stalled = true } }
        markWritable(id)
    }

    /// Transport queries.
    public func isStalled(_ id: ServerConnectionID) -> Bool { conns[id]?.stalled ?? false }
    public func state(_ id: ServerConnectionID) -> State? { conns[id]?.state }
    /// Live connections of `app`, oldest first.
    public func connections(app: Int = 0) -> [ServerConnectionID] { apps[app].connections }
    public var appCount: Int { apps.count }
    public func appKey(_ app: Int) -> String { apps[app].key }

    /// Takes the framed bytes waiting for `id`, and the ending to perform once they are
    /// written (nil while output is still coming or none is due).
    public func takeOutput(_ id: ServerConnectionID) -> (bytes: [UInt8], ending: Ending?) {
        guard let c = conns[id] else { return ([], nil) }
        c.listed = false
        if c.halfOpen { return ([], nil) }
        let out = c.out
        c.out = []
        c.out.reserveCapacity(min(out.count, 1 << 20))
        return (out, c.ending)
    }

    /// A client PONG arrived.
    public func pong(_ id: ServerConnectionID) { conns[id]?.unansweredPings = 0 }

    // MARK: time

    /// Advances timers: hello delay, pings, warning/refresh, closes, ghosts, deadlines,
    /// retries and the load generator.
    public func tick(now: Double) {
        for c in Array(conns.values) {
            switch c.state {
            case .ghost:
                if let until = c.ghostUntil, now >= until {
                    retire(c)
                    noteConnections(app: c.app, now: now)
                }
                continue
            case .rejected, .closing:
                continue
            case .live, .refreshing:
                break
            }
            if !c.helloSent, now >= c.helloAt { sendHello(c, lifetime: c.pendingLifetime, now: now) }
            if now >= c.nextPingAt {
                c.nextPingAt = now + config.pingInterval
                if config.maxMissedPongs > 0, c.unansweredPings >= config.maxMissedPongs {
                    end(c.id, .drop(reset: false))
                    continue
                }
                c.unansweredPings += 1
                appendFrame(c, opcode: 0x9, Array("Ping from \(config.podName)".utf8))
            }
            if c.state == .live, let w = c.warningAt, now >= w {
                c.warningAt = nil
                appendText(c, #"{"type":"disconnect","reason":"warning","debug_info":{"host":"\#(config.podName)"}}"#)
            }
            if c.state == .live, now >= c.expiresAt {
                disconnect(reason: "refresh_requested", connection: c.id, now: now)
            }
            if c.state == .refreshing, let at = c.endAt, now >= at {
                end(c.id, config.refreshClose == .closeFrame ? .close(code: 1000, reason: "") : .drop(reset: false))
            }
        }
        tickDelivery(now: now)
    }

    // MARK: framing

    func markWritable(_ id: ServerConnectionID) {
        guard let c = conns[id], !c.listed else { return }
        c.listed = true
        wantWrite.append(id)
    }

    func appendText(_ c: Conn, _ text: String) {
        var t = text
        t.withUTF8 { appendFrame(c, opcode: 0x1, UnsafeRawBufferPointer($0)) }
    }

    func appendFrame(_ c: Conn, opcode: UInt8, _ payload: [UInt8]) {
        payload.withUnsafeBytes { appendFrame(c, opcode: opcode, $0) }
    }

    func appendFrame(_ c: Conn, opcode: UInt8, _ payload: UnsafeRawBufferPointer) {
        guard c.state != .ghost else { return }
        Self.frameHeader(into: &c.out, opcode: opcode, length: payload.count)
        c.out.append(contentsOf: payload)
        markWritable(c.id)
    }

    /// Appends an unmasked, final (never fragmented) server frame header.
    static func frameHeader(into out: inout [UInt8], opcode: UInt8, length: Int) {
        out.append(0x80 | opcode)
        if length < 126 {
            out.append(UInt8(length))
        } else if length <= 0xFFFF {
            out.append(126); out.append(UInt8(length >> 8)); out.append(UInt8(length & 0xFF))
        } else {
            out.append(127)
            for i in stride(from: 56, through: 0, by: -8) { out.append(UInt8((UInt64(length) >> UInt64(i)) & 0xFF)) }
        }
    }
}

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}
