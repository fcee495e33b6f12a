import CSockeye
import SockeyeCore
import SockeyeTransport

/// How the transport's notices read in the host's log, and at which level. Free text that may
/// quote a URL (a transport error, an open failure, a loss's reason) goes through
/// `URLRedaction.urls(in:)`: a URL shows without credentials, query or fragment.
enum LogLine {
    static func describe(_ notice: ClientNotice) -> (sockeye_log_level, String) {
        switch notice {
        case .pool(let pool): describe(pool)
        case .transport(let error): (SOCKEYE_LOG_WARN, "transport: \(URLRedaction.urls(in: error.description))")
        case .protocolViolation(let connection, let error): (SOCKEYE_LOG_WARN, "\(connection): protocol error: \(error)")
        case .lateAck(let token): (SOCKEYE_LOG_WARN, "\(token): acked after Slack's 3 s deadline")
        }
    }

    private static func describe(_ notice: PoolNotice) -> (sockeye_log_level, String) {
        switch notice {
        case .hello(let connection, let count, let lifetime, let host):
            (SOCKEYE_LOG_INFO, "\(connection): hello from \(host ?? "?") (Slack counts \(count.map(String.init) ?? "?") connections, "
                + "recycles this one in about \(lifetime.map { "\($0) s" } ?? "?"))")
        case .moreConnectionsThanOpen(let connection, let slackCount, let open):
            (SOCKEYE_LOG_WARN, "\(connection): Slack counts \(slackCount) connections, \(open) open here")
        case .retiring(let connection, let reason):
            (SOCKEYE_LOG_INFO, "\(connection): replacing it (\(reason))")
        case .tooManyWebsockets(let connection, let target, let retryIn):
            (SOCKEYE_LOG_WARN, "\(connection): too_many_websockets; pool target \(target), retry in \(retryIn)")
        case .connectionLost(let connection, let reason):
            (SOCKEYE_LOG_WARN, "\(connection): lost (\(URLRedaction.urls(in: "\(reason)")))")
        case .openFailed(let result, let retryIn):
            (SOCKEYE_LOG_WARN, "apps.connections.open failed (\(URLRedaction.urls(in: "\(result)"))); retry in \(retryIn)")
        case .malformedFrame(let connection, let error):
            (SOCKEYE_LOG_WARN, "\(connection): malformed frame dropped (\(error))")
        case .duplicateDropped(let connection, let token):
            (SOCKEYE_LOG_DEBUG, "\(connection): redelivery of \(token) acked, not delivered again")
        case .redeliveryCoalesced(let connection, let token):
            (SOCKEYE_LOG_DEBUG, "\(connection): redelivery held with unacknowledged \(token)")
        case .drainTimedOut(let count):
            (SOCKEYE_LOG_WARN, "drain timed out with \(count) deliveries unacknowledged")
        case .poolResized(let from, let to, let reason):
            (SOCKEYE_LOG_INFO, "pool resized \(from) → \(to): \(reason)")
        case .ackGuardFired(let token):
            (SOCKEYE_LOG_DEBUG, "\(token): acked by the ack guard")
        case .ackDeadlineMissed(let token):
            (SOCKEYE_LOG_WARN, "\(token): Slack's 3 s deadline passed unacknowledged")
        }
    }
}
