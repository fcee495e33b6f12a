import Logging
import SockeyeCore

extension SocketModeNotice {
    /// Writes the notice's log line: `info` for the ordinary life of a pool (a hello, a
    /// resize), `warning` for what costs a connection or an event's timeliness (an ack the
    /// guard sent for the application included), `debug` for routine bookkeeping (duplicates
    /// dropped, redeliveries held, refresh steps). Tokens never
    /// appear: they travel only in request headers. Free text that may quote a URL (a
    /// transport error, an open failure, a loss's reason) goes through `URLRedaction.urls(in:)`,
    /// so a URL shows without credentials, query (a ticket, a token) or fragment.
    func log(to logger: Logger) {
        switch self {
        case .pool(let pool): Self.log(pool, to: logger)
        case .transport(let error):
            logger.warning("transport error", metadata: ["error": .string(URLRedaction.urls(in: error.description))])
        case .protocolViolation(let id, let error):
            logger.warning("protocol violation", metadata: ["connection": .string(id.description), "error": .string(error.description)])
        case .lateAck(let token):
            logger.warning("ack after Slack's deadline", metadata: ["delivery": .string(token.description)])
        }
    }

    private static func log(_ notice: PoolNotice, to logger: Logger) {
        switch notice {
        case .hello(let id, let count, let lifetime, let host):
            logger.info("connection live", metadata: [
                "connection": .string(id.description), "num_connections": .string(count.map(String.init) ?? "-"),
                "host": .string(host ?? "-"),
                "approximate_connection_time": .string(lifetime.map { "\($0) s" } ?? "-"),
            ])
        case .connectionLost(let id, let reason):
            logger.warning("connection lost", metadata: ["connection": .string(id.description), "reason": .string(URLRedaction.urls(in: "\(reason)"))])
        case .openFailed(let result, let retryIn):
            logger.warning("apps.connections.open failed", metadata: ["result": .string(URLRedaction.urls(in: "\(result)")), "retry_in": .string("\(retryIn)")])
        case .tooManyWebsockets(let id, let target, let retryIn):
            logger.warning("too_many_websockets", metadata: ["connection": .string(id.description), "target": .stringConvertible(target),
                                                             "retry_in": .string("\(retryIn)")])
        case .moreConnectionsThanOpen(_, let slackCount, let open):
            logger.warning("Slack counts more connections than this process holds: another process may be taking this app's events",
                           metadata: ["slack_count": .stringConvertible(slackCount), "ours": .stringConvertible(open)])
        case .ackGuardFired(let token):
            logger.warning("ack guard acked an event the application had not answered", metadata: ["delivery": .string(token.description)])
        case .poolResized(let from, let to, let reason):
            logger.info("pool resized", metadata: ["from": .stringConvertible(from), "to": .stringConvertible(to), "reason": .string(reason)])
        case .malformedFrame(let id, let error):
            logger.warning("malformed frame dropped", metadata: ["connection": .string(id.description), "error": .string("\(error)")])
        case .drainTimedOut(let count):
            logger.warning("drain timed out", metadata: ["unacknowledged": .stringConvertible(count)])
        case .ackDeadlineMissed(let token):
            logger.warning("Slack's 3 s deadline passed unacknowledged", metadata: ["delivery": .string(token.description)])
        case .retiring, .duplicateDropped, .redeliveryCoalesced:
            logger.debug("\(notice)")
        }
    }
}
