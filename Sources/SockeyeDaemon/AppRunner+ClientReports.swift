import Logging
import Sockeye
import SockeyeSinkKit
import Synchronization

/// What the Socket Mode client reports (its notices and counters), kept for the status page
/// and turned into metrics. The client logs its notices itself.
extension AppRunner {
    /// Copies the client's counters into metrics about once a second (deltas for counters),
    /// and at each history interval's end (and once a second) takes the reading the app's
    /// history is sampled from.
    func sampleClientCounters() async {
        var lastDuplicates = 0
        var lastRedelivered = 0
        var lastReceived = counters.snapshot.received
        var lastTime: ContinuousClock.Instant?
        var clusterNodes: Set<String> = []
        var sampler = HistorySampler(intervalMilliseconds: history.intervalMilliseconds)
        while !Task.isCancelled {
            let stats = clientStats
            let received = counters.snapshot.received
            let wall = Timestamp.nowMilliseconds()
            let reading = HistorySampler.Reading(nowMilliseconds: wall, received: received, liveConnections: stats.liveConnections,
                                                 wantedConnections: stats.targetConnections, latencies: history.latencies.read())
            if let finished = sampler.observe(reading) { history.record(finished.sample, slot: finished.slot) }
            let now = ContinuousClock.now
            if lastTime.map({ now - $0 >= .milliseconds(950) }) ?? true {
                if let share { clusterNodes = metrics.cluster(share.snapshot, known: clusterNodes) }
                if let lastTime { status.setRate(Double(received - lastReceived) / (Double(Self.nanoseconds(now - lastTime)) / 1e9)) }
                lastReceived = received
                lastTime = now
                metrics.deduplicated.increment(by: max(0, stats.pool.duplicatesDropped - lastDuplicates))
                metrics.redelivered.increment(by: max(0, stats.pool.redeliveriesReceived - lastRedelivered))
                lastDuplicates = stats.pool.duplicatesDropped
                lastRedelivered = stats.pool.redeliveriesReceived
                metrics.liveConnections.record(stats.liveConnections)
                metrics.wantedConnections.record(stats.targetConnections)
            }
            // Woken just past each interval's end, so every interval gets its sample.
            let untilInterval = Duration.milliseconds(sampler.millisecondsToNextInterval(from: Timestamp.nowMilliseconds()) + 5)
            try? await Task.sleep(for: min(.seconds(1), untilInterval))
        }
    }

    /// Keeps what the status page and the metrics need from a notice (the client logs it).
    func observe(_ notice: SocketModeNotice) {
        switch notice {
        case .pool(.retiring(let id, let reason)):
            status.refreshed("\(reason)")
            // Every refresh is logged with the host and lifetime its hello announced.
            let served = helloes.withLock { $0[id] }
            logger.info("refreshing connection", metadata: [
                "connection": .string(id.description), "reason": .string("\(reason)"), "host": .string(served?.host ?? "-"),
                "approximate_connection_time": .string(served?.lifetime.map { "\($0) s" } ?? "-"),
            ])
        case .pool(.hello(let id, _, let lifetime, let host)):
            status.hello(connectionTime: lifetime)
            helloes.withLock {
                $0[id] = (host, lifetime)
                if $0.count > 64 { $0.removeValue(forKey: $0.keys.min()!) }
            }
        case .pool(.connectionLost(let id, let reason)):
            metrics.reconnect(reason: Self.label(reason))
            status.error("\(id) lost: \(reason)")
        case .pool(.openFailed(let result, let retryIn)):
            let code: String =
                switch result {
                case .apiError(let error, _): error
                case .httpStatus(let http, _): "http_\(http)"
                case .transportFailure: "transport"
                case .url: "none"
                }
            metrics.openError(code: code)
            status.error("apps.connections.open: \(code)")
            // Slack's rate limit holds for the app, whichever node asks: the cluster waits.
            if code == "ratelimited" || code == "http_429" { share?.backOff(for: retryIn) }
        case .pool(.tooManyWebsockets(_, _, let retryIn)):
            status.error("too_many_websockets")
            share?.backOff(for: retryIn)
        case .transport(let error):
            status.error(error.description)
        case .protocolViolation(_, let error):
            status.error(error.description)
        default:
            break
        }
    }

    /// A metric label for a loss reason (no free text in labels).
    static func label(_ reason: ConnectionLoss) -> String {
        switch reason {
        case .connectTimeout: "connect_timeout"
        case .connectFailed: "connect_failed"
        case .helloTimeout: "hello_timeout"
        case .silence: "silence"
        case .pongTimeout: "pong_timeout"
        case .closedByPeer(let code): code.map { "closed_\($0)" } ?? "closed"
        }
    }
}
