import Foundation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import SockeyeSinkKit
import SockeyeHTTP
import Synchronization

/// Counts and logs what one listener refused: `sockeyed_listener_rejections_total{listener,reason}`
/// for every refusal (the series exist at 0 from the start), and at most one warning per
/// reason every `logInterval` seconds, saying how many were left out since (a stranger can
/// cause refusals as fast as they can send requests; the log must not grow with them).
/// Nothing from the request (header values, path, body) is logged.
final class ListenerRejections: Sendable {
    let listener: String
    private let logger: Logger
    private let counters: [RejectionReason: Counter]
    private let log: Mutex<RateLimitedLog>
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant

    init(listener: String, logger: Logger, logInterval: Double = 10) {
        self.listener = listener
        self.logger = logger
        var counters: [RejectionReason: Counter] = [:]
        for reason in RejectionReason.allCases {
            counters[reason] = Counter(label: "sockeyed_listener_rejections_total",
                                       dimensions: [("listener", listener), ("reason", reason.rawValue)])
        }
        self.counters = counters
        log = Mutex(RateLimitedLog(interval: logInterval))
        start = clock.now
    }

    /// One refusal: counted, and logged unless another of its reason was logged recently.
    func rejected(_ reason: RejectionReason) {
        count(reason)
        warn(key: reason.rawValue, "\(listener) listener refused a request", ["reason": .string(reason.rawValue)])
    }

    /// Counts one refusal without logging it (the caller logs it with more context).
    func count(_ reason: RejectionReason) {
        counters[reason]?.increment()
    }

    /// Writes `message` unless a line of `key` was written in the last interval; the line
    /// carries how many of `key` were suppressed since the previous one.
    func warn(key: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        let elapsed = clock.now - start
        let now = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard let line = log.withLock({ $0.occurred(key, at: now) }) else { return }
        var metadata = metadata
        metadata["listener"] = .string(listener)
        if line.suppressed > 0 { metadata["suppressed_since_last"] = .stringConvertible(line.suppressed) }
        logger.warning(message, metadata: metadata)
    }
}

extension ListenerLimits {
    /// The server limits these settings describe, with the listener's own checks.
    func serverLimits(bodyLimit: @escaping @Sendable (HTTPRequestHead) -> Int,
                      screen: @escaping @Sendable (HTTPRequestHead) -> HTTPServer.Refusal?,
                      onRefusedTooLarge: @escaping @Sendable (HTTPRequestHead) -> Void = { _ in },
                      rejections: ListenerRejections) -> HTTPServer.Limits {
        HTTPServer.Limits(bodyLimit: bodyLimit, screen: screen, onRefusedTooLarge: onRefusedTooLarge,
                          onRejected: { rejections.rejected($0) },
                          idleTimeout: Self.time(idleTimeoutSeconds), headTimeout: Self.time(headTimeoutSeconds),
                          bodyTimeout: Self.time(bodyTimeoutSeconds), minBodyBytesPerSecond: minBodyBytesPerSecond,
                          maxConnections: maxConnections, maxRequestsPerConnection: maxRequestsPerConnection)
    }

    /// Seconds (range-checked by the configuration) as a `TimeAmount`, clamped to a day.
    static func time(_ seconds: Double) -> TimeAmount {
        guard seconds.isFinite, seconds > 0 else { return .milliseconds(1) }
        return .nanoseconds(Int64(min(seconds, 86_400) * 1e9))
    }
}
