import Foundation
import Histogram

/// Delivery counters for one connection or for the whole run.
public struct DeliveryCounters: Codable, Sendable, Equatable {
    /// Envelopes written to a socket (first deliveries and retries).
    public var delivered = 0
    /// Envelopes acked within the deadline.
    public var acked = 0
    /// Retry deliveries of events (`retry_attempt` ≥ 1).
    public var redelivered = 0
    /// Events whose last retry also went unacked.
    public var failedAfterRetries = 0
    /// Slash commands / interactive payloads not acked in time (the user saw an error).
    public var userVisibleFailures = 0
    public var duplicateAcks = 0
    public var unknownAcks = 0
    /// Acks that arrived after the deadline had expired.
    public var lateAcks = 0
    /// Acks on a connection other than the delivering one while that is not allowed.
    public var wrongConnectionAcks = 0
    /// Ack payloads sent for envelopes with `accepts_response_payload: false` (ignored).
    public var ignoredResponsePayloads = 0
    /// Ack payloads accepted as responses.
    public var responsePayloads = 0
    /// Client text frames that were not JSON.
    public var malformedFrames = 0
    /// Valid JSON frames without an `envelope_id`.
    public var nonAckFrames = 0
    /// Client frames at or over the frame limit.
    public var oversizeFrames = 0
    public var binaryFrames = 0
    /// Events dropped because their app's events were disabled. They never reach a
    /// connection, so only the report's `total` carries them.
    public var droppedWhileDisabled = 0

    public init() {}

    mutating func add(_ o: DeliveryCounters) {
        delivered += o.delivered; acked += o.acked; redelivered += o.redelivered
        failedAfterRetries += o.failedAfterRetries; userVisibleFailures += o.userVisibleFailures
        duplicateAcks += o.duplicateAcks; unknownAcks += o.unknownAcks; lateAcks += o.lateAcks
        wrongConnectionAcks += o.wrongConnectionAcks; ignoredResponsePayloads += o.ignoredResponsePayloads
        responsePayloads += o.responsePayloads; malformedFrames += o.malformedFrames
        nonAckFrames += o.nonAckFrames; oversizeFrames += o.oversizeFrames; binaryFrames += o.binaryFrames
        droppedWhileDisabled += o.droppedWhileDisabled
    }
}

/// Ack latency distribution in microseconds.
public struct LatencyRecorder: Sendable {
    var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    mutating func record(microseconds: UInt64) { _ = histogram.record(max(1, microseconds)) }
    mutating func add(_ o: LatencyRecorder) { histogram.add(o.histogram) }

    /// Percentiles in milliseconds.
    public var summary: LatencySummary {
        guard histogram.totalCount > 0 else { return LatencySummary() }
        func ms(_ p: Double) -> Double { Double(histogram.valueAtPercentile(p)) / 1000 }
        return LatencySummary(count: Int(histogram.totalCount), p50: ms(50), p99: ms(99), p999: ms(99.9),
                              max: Double(histogram.max) / 1000)
    }
}

/// Ack latency percentiles (milliseconds).
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count = 0
    public var p50 = 0.0
    public var p99 = 0.0
    public var p999 = 0.0
    public var max = 0.0
}

/// One row of the report.
public struct ConnectionReport: Codable, Sendable {
    public var connection: String
    public var app: String
    public var state: String
    public var counters: DeliveryCounters
    public var latencyMs: LatencySummary
}

/// One app's events disabling rule, which Slack applies per app.
public struct AppReport: Codable, Sendable {
    /// The `A…` app id.
    public var app: String
    /// Events are disabled for this app (by the rule or the admin API).
    public var eventsDisabled: Bool
    /// This app's events dropped while disabled.
    public var droppedWhileDisabled: Int
    /// Settled event deliveries of this app in the rule's current window.
    public var windowDelivered: Int
    /// Of those, the acked ones.
    public var windowAcked: Int
    /// `apps.connections.open` calls answered with a URL, and refused by the rate limit.
    public var connectionsOpenURLs = 0
    public var connectionsOpenRateLimited = 0
    /// The most connections registered at once (ghosts included), and those registered now.
    public var peakConnections = 0
    public var connections = 0
    /// Connections answered with `too_many_websockets` instead of hello.
    public var tooManyRejections = 0
    /// The longest time, in seconds, the app had no connection after its first one (a
    /// time without one that is still going on included).
    public var longestWithoutConnectionSeconds = 0.0
}

/// One app's share of the current Socket Mode load run (`SimReport.loadApps`).
public struct LoadAppReport: Codable, Sendable, Equatable {
    /// The app's index in the configuration.
    public var index: Int
    /// The `A…` app id.
    public var app: String
    /// Envelopes the run generated for this app so far.
    public var issued: Int
    /// Of those, acked (over Socket Mode, or HTTP 2xx after a switch; a retry's ack counts).
    public var acked: Int
    /// Of those, lost for good: events failed after their retries or dropped while the
    /// app's events were disabled, commands and interactions not acked in time.
    public var lost: Int
}

/// The run report, printed as JSON or as a table.
public struct SimReport: Codable, Sendable {
    public var elapsedSeconds: Double
    public var total: DeliveryCounters
    public var latencyMs: LatencySummary
    public var envelopesPerSecond: Double
    public var connections: [ConnectionReport]
    /// Pending envelopes (delivered, not yet acked or timed out).
    public var inFlight: Int
    /// Events waiting for a retry or for a connection.
    public var queued: Int
    public var connectionsOpened: Int
    public var connectionsRefused: Int
    /// Connections that got `too_many_websockets` instead of hello.
    public var tooManyRejections = 0
    /// Fraction of wall time the service thread spent on CPU during the load run (0…1).
    public var simBusyFraction: Double?
    /// Who limited throughput (`LoadVerdict`): "sim", "client", or in rate mode
    /// "none (kept the schedule)".
    public var saturated: String?
    /// Rate mode: how far sending fell behind the intended schedule, in ms (max).
    public var maxSendLagMs: Double?
    /// Events disabled for any app by the 5 % rule (or the admin API); events dropped
    /// meanwhile, all apps together. Per app: `apps`.
    public var eventsDisabled = false
    public var droppedWhileDisabled = 0
    /// The events disabling rule per app, in configuration order.
    public var apps: [AppReport] = []
    /// The current Socket Mode load run's totals per app, in the run's order (absent
    /// before a run and for a run made by HTTP delivery's generator).
    public var loadApps: [LoadAppReport]?
    /// HTTP delivery mode counters (also added into `total` and `latencyMs`).
    public var http: HTTPDelivery.Counters?
    /// The OAuth side: per client, its calls and installations (`OAuthReport`).
    public var oauth: OAuthReport?
    /// Envelopes that never got acked for good: `total.failedAfterRetries` +
    /// `total.droppedWhileDisabled` + `total.userVisibleFailures`.
    public var lost = 0
    /// One line: "no envelope lost" or "LOST n (…)", then "; saturated: …" after a load run.
    public var verdict = ""

    /// JSON text.
    public func json() -> String {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? String(decoding: enc.encode(self), as: UTF8.self)) ?? "{}"
    }

    /// A human-readable table.
    public func table() -> String {
        func row(_ name: String, _ c: DeliveryCounters, _ l: LatencySummary) -> String {
            let cols: [String] = [name, "\(c.delivered)", "\(c.acked)", "\(c.redelivered)", "\(c.failedAfterRetries)",
                                  "\(c.userVisibleFailures)", "\(c.duplicateAcks)", "\(c.unknownAcks)",
                                  String(format: "%.3f", l.p50), String(format: "%.3f", l.p99), String(format: "%.3f", l.p999)]
            return cols.enumerated().map { i, s in i == 0 ? s.padding(toLength: 14, withPad: " ", startingAt: 0) : String(repeating: " ", count: max(0, 11 - s.count)) + s }.joined()
        }
        var lines = ["connection       delivered      acked  redeliv.  failed  user-fail  dup-acks unk-acks  p50 ms    p99 ms  p99.9 ms"]
        for c in connections { lines.append(row(String(c.connection.prefix(14)), c.counters, c.latencyMs)) }
        lines.append(row("TOTAL", total, latencyMs))
        lines.append(String(format: "elapsed %.2f s, %.0f envelopes/s acked, in flight %d, queued %d", elapsedSeconds, envelopesPerSecond, inFlight, queued))
        if let h = http {
            lines.append(String(format: "http delivery: attempts %d, acked %d, retries %d, failed %d (no-retry %d), http errors %d, timeouts %d, connect failures %d (TLS %d), connections %d, p50 %.3f ms, p99 %.3f ms",
                                h.attempts, h.acked, h.retries, h.failed, h.noRetry, h.httpErrors, h.timeouts, h.connectionFailures,
                                h.tlsFailures, h.connectionsOpened, h.latencyMs.p50, h.latencyMs.p99))
            if let e = h.lastError { lines.append("http last connection error: " + e) }
        }
        let disabled = apps.filter(\.eventsDisabled).map { "\($0.app) (dropped \($0.droppedWhileDisabled))" }
        if !disabled.isEmpty { lines.append("events disabled: " + disabled.joined(separator: ", ")) }
        if let per = loadApps, per.count > 1, let fewest = per.map(\.acked).min(), let most = per.map(\.acked).max() {
            let lossy = per.filter { $0.lost > 0 }.map { "\($0.app) (\($0.lost))" }
            lines.append("load over \(per.count) apps: acked \(fewest)–\(most) per app, lost \(per.reduce(0) { $0 + $1.lost })"
                         + (lossy.isEmpty ? "" : " — " + lossy.prefix(10).joined(separator: ", ") + (lossy.count > 10 ? ", …" : "")))
        }
        if let busy = simBusyFraction, let sat = saturated {
            lines.append(String(format: "%@ busy %.0f%% -> saturated: %@", http == nil ? "sim service thread" : "sim HTTP workers", busy * 100, sat))
        }
        if let lag = maxSendLagMs { lines.append(String(format: "max send lag %.3f ms", lag)) }
        for c in oauth?.clients ?? [] where c.approvals + c.accessCalls.values.reduce(0, +) > 0 {
            let active = c.installations.filter { !$0.revoked }.count
            let bad = c.revokedTokenCalls.values.reduce(0, +) + c.expiredTokenCalls.values.reduce(0, +)
            lines.append("oauth \(c.appID) (client \(c.clientID)): installations \(active) active / \(c.installations.count), "
                         + "access calls \(c.accessCalls.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")), "
                         + "invalid_refresh_token \(c.invalidRefreshToken), auth.revoke \(c.authRevokeCalls), calls with revoked/expired tokens \(bad)")
        }
        lines.append("verdict: " + verdict)
        return lines.joined(separator: "\n")
    }
}
