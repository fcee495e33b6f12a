// Timeouts, watchdogs, pings and the ack guard.

extension PoolController {
    mutating func timer(now: Instant) {
        var index = 0
        while index < connections.count {
            checkConnection(index, now: now)
            index += 1
        }
        for due in acks.expire(now: now) {
            switch due {
            case .guardFired(let token, let entry):
                metrics.ackGuardFired += 1
                sendAck(AckMessage(envelopeID: entry.id, payload: nil), preferring: entry.connection)
                emit(.notice(.ackGuardFired(token)))
            case .deadlineMissed(let token, let entry):
                metrics.ackDeadlinesMissed += 1
                // Slack will redeliver: let the retry through to the host.
                if let key = entry.dedupKey { dedup.remove(key) }
                emit(.notice(.ackDeadlineMissed(token)))
            }
        }
        dedup.expire(now: now)
        if let retryAt = linkRetryAt, now >= retryAt, failure == .linkDisabled {
            linkRetryAt = nil
            failure = nil
            target = configuration.poolSize
        }
    }

    mutating func checkConnection(_ index: Int, now: Instant) {
        let record = connections[index]
        switch record.phase {
        case .connecting:
            if let deadline = record.deadline, now >= deadline { abort(index, reason: .connectTimeout, now: now) }
        case .awaitingHello:
            if let deadline = record.deadline, now >= deadline { abort(index, reason: .helloTimeout, now: now) }
        case .live:
            if now >= record.lastHeard + configuration.silenceTimeout {
                abort(index, reason: .silence, now: now)
                return
            }
            if let pingAt = record.nextPingAt, now >= pingAt {
                connections[index].pingSequence += 1
                connections[index].nextPingAt = now + configuration.pingInterval
                metrics.pingsSent += 1
                emit(.sendPing(record.id, PingPayload(connection: record.id, sequence: connections[index].pingSequence)))
            }
            if let refreshAt = record.refreshAt, now >= refreshAt, record.retiring == nil {
                connections[index].refreshAt = nil
                retire(index, .proactive, closeWhenReplaced: true, now: now)
            }
        case .closing:
            if let deadline = record.deadline, now >= deadline {
                connections[index].deadline = nil
                emit(.abort(record.id))
            }
        }
    }

    /// When the pool next needs `.timer`; `nil` when nothing is scheduled.
    public mutating func nextDeadline(now: Instant) -> Instant? {
        var next: Instant? = nil
        func consider(_ instant: Instant?) {
            guard let instant else { return }
            next = next.map { min($0, instant) } ?? instant
        }
        for record in connections {
            consider(record.deadline)
            if record.phase == .live {
                consider(record.nextPingAt)
                consider(record.lastHeard + configuration.silenceTimeout)
                if record.retiring == nil { consider(record.refreshAt) }
            }
        }
        consider(acks.nextDeadline())
        consider(dedup.nextExpiry)
        consider(linkRetryAt)
        if started && !stopping && failure == nil {
            consider(regrowAt)
            if activeCount < target && !urlRequestInFlight && connections.count < configuration.connectionBudget {
                consider(max(retryNotBefore, limiter.nextAvailable(now: now)))
            }
        }
        return next
    }
}
