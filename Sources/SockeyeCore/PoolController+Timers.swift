// Timeouts, watchdogs, pings, the ack guard, the drain deadline and pool sizing.

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
                sendAcks(AckMessage(envelopeID: entry.id, payload: nil), for: entry)
                emit(.notice(.ackGuardFired(token)))
            case .guardWithheld(let token, _):
                // Still in the host's queue: acking it now would lose it in a crash. Slack
                // redelivers after its deadline; the retry attaches to this copy.
                metrics.ackGuardWithheld += 1
                emit(.notice(.ackDeadlineMissed(token)))
            case .deadlineMissed(let token, _):
                metrics.ackDeadlinesMissed += 1
                // Slack will redeliver; the host may still ack late, so the retry is
                // attached to this copy rather than delivered twice (PoolController+Nack).
                emit(.notice(.ackDeadlineMissed(token)))
            case .lateExpired(_, let entry):
                // The host never answered: as if it nacked. The next retry reaches it.
                release(entry)
            }
        }
        dedup.expire(now: now)
        if let retryAt = linkRetryAt, now >= retryAt, failure == .linkDisabled {
            linkRetryAt = nil
            failure = nil
            target = sizer.size
        }
        if let at = sizer.nextEvaluationAt, now >= at, started, !stopping, failure == nil {
            evaluateSize(now: now)
        }
        if let deadline = drainDeadline, now >= deadline {
            metrics.drainsTimedOut += 1
            emit(.notice(.drainTimedOut(unacknowledged: acks.unresolved)))
            finishDrain(now: now)
        }
    }

    /// Measures the load and applies the sizer's decision.
    mutating func evaluateSize(now: Instant) {
        // too_many_websockets takes precedence: no growth while it holds the pool back.
        let backingOff = target < sizer.size || regrowAt != nil
        let before = sizer.size
        let decision = sizer.evaluate(
            now: now, inFlight: acks.outstanding, delivered: metrics.envelopesDelivered, live: liveCount,
            mayGrow: !backingOff)
        switch decision {
        case .grow(let reason):
            metrics.poolGrown += 1
            target = sizer.size
            emit(.notice(.poolResized(from: before, to: sizer.size, reason: reason)))
        case .shrink(let reason):
            metrics.poolShrunk += 1
            target = min(target, sizer.size)
            emit(.notice(.poolResized(from: before, to: sizer.size, reason: reason)))
            closeSurplusConnection(now: now)
        case nil:
            break
        }
    }

    /// After a shrink, closes one connection beyond the target: one not live yet if any
    /// (it carries nothing), else the live one with the fewest unacknowledged envelopes.
    /// Its pending acks go out on another live connection (`sendAck`).
    mutating func closeSurplusConnection(now: Instant) {
        guard activeCount > allowedTarget else { return }
        let active = connections.indices.filter { connections[$0].retiring == nil && connections[$0].phase != .closing }
        let choice =
            active.first { connections[$0].phase != .live }
            ?? active.min { acks.outstanding(on: connections[$0].id) < acks.outstanding(on: connections[$1].id) }
        if let choice { beginClose(choice, now: now) }
    }

    mutating func checkConnection(_ index: Int, now: Instant) {
        let record = connections[index]
        switch record.phase {
        case .connecting:
            if let deadline = record.deadline, now >= deadline { abort(index, reason: .connectTimeout, now: now) }
        case .awaitingHello:
            if let deadline = record.deadline, now >= deadline { abort(index, reason: .helloTimeout, now: now) }
        case .live:
            // While the host does not read, nothing is heard: the watchdogs wait for it.
            if !intakePaused, now >= record.lastHeard + configuration.silenceTimeout {
                abort(index, reason: .silence, now: now)
                return
            }
            // Two pings at least, so a timeout shorter than the ping interval cannot fire
            // before the first pong had a chance.
            if !intakePaused, let timeout = configuration.pongTimeout, record.pingSequence >= 2,
                now >= record.lastPong + timeout
            {
                abort(index, reason: .pongTimeout, now: now)
                return
            }
            if let pingAt = record.nextPingAt, now >= pingAt {
                connections[index].pingSequence += 1
                connections[index].nextPingAt = now + configuration.pingInterval
                metrics.pingsSent += 1
                emit(.sendPing(record.id, PingPayload(connection: record.id, sequence: connections[index].pingSequence)))
            }
            if let closeAt = record.closeAt, now >= closeAt {
                // Slack did not close the refreshed connection within the linger.
                beginClose(index, now: now)
                return
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
                if !intakePaused {
                    consider(record.lastHeard + configuration.silenceTimeout)
                    if let timeout = configuration.pongTimeout, record.pingSequence >= 2 { consider(record.lastPong + timeout) }
                }
                if record.retiring == nil { consider(record.refreshAt) }
                consider(record.closeAt)
            }
        }
        consider(acks.nextDeadline())
        consider(dedup.nextExpiry)
        consider(linkRetryAt)
        consider(drainDeadline)
        if started && !stopping && failure == nil {
            consider(regrowAt)
            // Only a dynamic pool has one: an idle static pool never wakes for sizing.
            consider(sizer.nextEvaluationAt)
            if activeCount < allowedTarget && !urlRequestInFlight && connections.count < socketBudget {
                consider(deafAfterRefresh ? retryNotBefore : max(retryNotBefore, limiter.nextAvailable(now: now)))
            }
        }
        return next
    }
}
