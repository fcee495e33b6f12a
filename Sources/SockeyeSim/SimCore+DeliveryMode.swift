/// How an app's payloads reach it: over its Socket Mode connections, or POSTed to its
/// Request URLs (as Slack does when the app's Socket Mode is turned off).
public enum DeliveryMode: String, Sendable, Codable {
    case socket
    case http
}

/// Per-app delivery mode. `deliver` hands work for an app in HTTP mode to `httpOut`, which
/// the transport drains into `HTTPDelivery`; what HTTP delivery finishes comes back
/// through `httpFinished`. Event ids stay the same whichever way a payload goes.
extension SimCore {
    /// `app`'s delivery mode (socket for an unknown index).
    public func mode(app: Int) -> DeliveryMode { apps.indices.contains(app) ? apps[app].mode : .socket }

    /// Switches `app` to `mode`. To HTTP: payloads queued for a connection go over HTTP,
    /// and events sent over Socket Mode and not acked yet are redelivered over HTTP at
    /// once as retries (`retry_attempt` + 1, same `event_id`; an ack arriving later on the
    /// socket counts as late). Unacked slash commands and interactions stay on their
    /// connection (Slack does not retry them). Back to socket: later payloads go to the
    /// connections again; the transport returns HTTP's queued payloads through
    /// `httpFinished`. Returns the number of events redelivered.
    @discardableResult
    public func setMode(_ mode: DeliveryMode, app: Int, now: Double) -> Int {
        guard apps.indices.contains(app), apps[app].mode != mode else { return 0 }
        apps[app].mode = mode
        guard mode == .http else {
            flushWaiting(app: app, now: now)
            return 0
        }
        let queued = waiting.filter { $0.app == app }
        if !queued.isEmpty {
            waiting.removeAll { $0.app == app }
            for w in queued { deliver(w, now: now) }
        }
        var moved = 0
        for slot in table.slots.indices where table.outcome(slot) == .pending {
            let p = table.pending(slot)
            guard p.work.app == app, templateIsEvent[p.work.template] else { continue }
            _ = table.settle(slot, acked: false)
            var w = p.work
            guard w.attempt < config.retryDelays.count else {
                if let c = conns[p.connection] { c.counters.failedAfterRetries += 1 } else { retiredCounters.failedAfterRetries += 1 }
                if w.fromLoad { apps[app].loadLost += 1 }
                continue
            }
            w.attempt += 1
            w.reuse = nil
            w.intendedAt = now
            deliver(w, now: now)
            moved += 1
        }
        return moved
    }

    /// Takes the work waiting to be POSTed (transport).
    func takeHTTPOut() -> [Work] {
        let out = httpOut
        httpOut = []
        return out
    }

    /// HTTP delivery is done with a payload: acked (its event is listed as acked, a
    /// non-empty reply body recorded), failed, or handed back because its app went back
    /// to Socket Mode (then it is delivered there, a retry keeping its attempt number).
    func httpFinished(_ s: HTTPDelivery.Settled, now: Double) {
        let job = s.job
        if job.fromCore { httpInFlight -= 1 }
        let known = templates.indices.contains(job.template)
        switch s.outcome {
        case .acked(let body):
            if job.fromCoreLoad, apps.indices.contains(job.app) { apps[job.app].loadAcked += 1 }
            guard known else { break }
            if templates[job.template].eventIDDigits != nil { ackedEvents.insert(job.eventNumber) }
            if !body.isEmpty {
                responses.append(ResponseLog.Entry(type: templates[job.template].type, label: templateLabel[job.template],
                                                   delivery: .http, envelopeID: nil, body: body))
            }
        case .failed:
            if job.fromCoreLoad, apps.indices.contains(job.app) { apps[job.app].loadLost += 1 }
        case .handBack:
            guard known else { break }
            var w = Work(template: job.template, eventNumber: job.eventNumber, attempt: job.attempt, intendedAt: now)
            w.app = job.app
            w.fromLoad = job.fromCoreLoad
            deliver(w, now: now)
        }
        if load != nil { refillWindow(now: now) }
    }
}
