import Sockeye
import SockeyeSinkKit

/// Carrying out one batch's plan: the sinks are called, the claims updated, every envelope
/// answered and the counts recorded. The decisions are `BatchPlanner`'s; this file only does
/// the I/O they call for.
extension AppRunner {
    /// Routes `batch` to the sinks, then acks what every sink accepted and nacks the rest.
    func handle(_ batch: [Inbound]) async {
        let now = Timestamp.nowMilliseconds()
        let receivedAt = Timestamp.iso8601(milliseconds: now)
        let records = batch.map { inbound -> EventRecord in
            switch inbound {
            case .socket(let event): EventRecord(event, app: settings.name, receivedAtMilliseconds: now, receivedAt: receivedAt,
                                                 authorizer: authorizer)
            case .http(let record, _): record
            }
        }
        installations?.observe(records)
        let clock = EventClaims.now()
        let bot = settings.ignoreOwnMessages ? identity.withLock { $0 } : nil
        let plan = planner.plan(records, own: bot.map { BatchPlanner.Author(botID: $0.botID, userID: $0.userID) }, now: clock)
        for (type, count) in plan.counts.receivedByType { metrics.received(count, type: type) }
        let outcomes = await SinkDelivery.deliver(plan.parts, of: records, to: sinks)
        let settlement = planner.settle(plan, outcomes: outcomes)
        if let claims {
            for update in settlement.claimUpdates { claims.finish(update.key, taken: update.taken, now: clock) }
        }
        var counts = settlement.counts
        for (index, inbound) in batch.enumerated() {
            switch (inbound, settlement.answers[index]) {
            case (.socket, .ackedOnReceipt):
                continue
            case (.socket(let event), .ack(let response)):
                do {
                    try ack(event, response: response)
                    let latency = Self.nanoseconds(event.age)
                    metrics.ackLatency.recordNanoseconds(latency)
                    history.latencies.record(nanoseconds: latency)
                } catch {
                    counts.acked -= 1
                    logger.warning("could not answer an event", metadata: ["envelope_id": .string(records[index].envelopeID), "error": .string("\(error)")])
                }
            case (.socket(let event), .nack):
                do {
                    try event.nack()
                } catch {
                    counts.nacked -= 1
                    logger.warning("could not answer an event", metadata: ["envelope_id": .string(records[index].envelopeID), "error": .string("\(error)")])
                }
            case (.http(_, let reply), .ack(let response)):
                reply.answer(.ack(response: response))
            case (.http(_, let reply), .ackedOnReceipt):
                // Not planned (only Socket Mode envelopes are acked on receipt); the request
                // is answered all the same.
                reply.answer(.ack(response: nil))
            case (.http(_, let reply), .nack(let reason)):
                reply.answer(.nack(reason))
            }
        }
        record(counts)
    }

    /// Logs the batch's sink failures and adds its counts to the metrics and counters.
    private func record(_ counts: BatchPlanner.Counts) {
        for failure in counts.failures {
            logger.error("sink refused events: they were nacked and Slack will redeliver them", metadata: ["error": .string(failure)])
            status.error(failure)
        }
        metrics.acked.increment(by: counts.acked)
        metrics.nacked.increment(by: counts.nacked)
        metrics.unrouted.increment(by: counts.unrouted)
        if counts.unauthorized > 0 { metrics.unauthorized.increment(by: counts.unauthorized) }
        if counts.duplicates > 0 { metrics.deduplicated.increment(by: counts.duplicates) }
        counters.update {
            $0.received += counts.received
            $0.acked += counts.acked
            $0.nacked += counts.nacked
            $0.unrouted += counts.unrouted
            $0.ownMessages += counts.ownMessages
            $0.unauthorized += counts.unauthorized
            $0.duplicates += counts.duplicates
            $0.sinkFailures += counts.failures.count
            if let last = counts.failures.last { $0.lastError = last }
        }
    }

    /// Acks `event`, with a sink's response payload when the envelope accepts one; a response
    /// Slack would refuse (not one JSON object, too big) is logged and the ack goes without it.
    private func ack(_ event: SocketModeEvent, response: [UInt8]?) throws(SocketModeError) {
        guard let response, event.acceptsResponsePayload else { return try event.ack(payloadBytes: nil) }
        do {
            try event.ack(payloadBytes: response)
        } catch .invalidAckPayload(let problem) {
            logger.warning("a sink's response payload was refused; acked without it",
                           metadata: ["envelope_id": .string(event.envelopeID), "error": .string("\(problem)")])
            status.error("response payload refused: \(problem)")
            try event.ack(payloadBytes: nil)
        }
    }
}
