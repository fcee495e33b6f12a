import DequeModule
import SockeyeCore

/// One payload to deliver (first attempt or a retry).
struct Work {
    var template: Int
    var eventNumber: UInt64
    var attempt: Int
    /// Intended send time (latency is measured from here: no coordinated omission).
    var intendedAt: Double
    /// A retry that keeps its envelope id (`newEnvelopeIDPerRetry == false`).
    var reuse: EnvelopeID? = nil
    /// Index of the app the payload is for.
    var app = 0
}

/// An envelope written to a connection and not yet settled.
struct Pending {
    var work: Work
    var connection: ConnectionID
    var sentAt: Double
}

/// A running load-generator job.
struct LoadRun {
    enum Mode { case rate(Double), window(Int) }
    var mode: Mode
    var mix: [Int]
    /// Index of the app the generated envelopes are for.
    var app: Int
    var total: Int
    var issued = 0
    var startedAt: Double
    var startCPU: Double
    var maxLag: Double = 0
    var finishedAt: Double?
    /// Service-thread CPU seconds when the run finished (nil: the report reads the clock).
    var finishedCPU: Double?
}

/// Fixed byte strings of the envelope JSON around the id and payload.
enum EnvelopeText {
    static let head = Array(#"{"envelope_id":""#.utf8)
    static let mid = Array(#"","payload":"#.utf8)
    /// `events_api` tails for retry_attempt 0…3.
    static let eventTails: [[UInt8]] = (0...3).map { attempt in
        Array(#","type":"events_api","accepts_response_payload":false,"retry_attempt":\#(attempt),"retry_reason":"\#(attempt > 0 ? "timeout" : "")"}"#.utf8)
    }
}

extension SimCore {
    /// Delivers `count` envelopes of payload kind `kind` (built-in name or fixture kind).
    /// Returns false for an unknown kind.
    @discardableResult
    public func inject(kind: String, count: Int = 1, app: Int = 0, now: Double) -> Bool {
        guard let t = template(kind: kind, app: app) else { return false }
        for _ in 0..<count { inject(template: t, app: app, now: now) }
        return true
    }

    func inject(template: Int, app: Int = 0, now: Double) {
        var w = Work(template: template, eventNumber: nextEvent, attempt: 0, intendedAt: now)
        w.app = app
        nextEvent += 1
        deliver(w, now: now)
    }

    /// Sends `w` to a connection of its app, or queues it when none is open.
    func deliver(_ w: Work, now: Double) {
        let app = apps[w.app]
        if app.eventsDisabled, templateIsEvent[w.template], templates[w.template].kind != "app_rate_limited" {
            app.droppedWhileDisabled += 1
            return
        }
        if app.mode == .http {
            httpOut.append(w)
            httpInFlight += 1
            return
        }
        let candidates = app.connections
        var chosen: Conn?
        if config.routing == .stickToGhost {
            chosen = candidates.lazy.compactMap { self.conns[$0] }.first { $0.state == .ghost }
        }
        if chosen == nil, !candidates.isEmpty {
            for _ in 0..<candidates.count {
                let idx: Int
                switch config.routing {
                case .roundRobin, .stickToGhost: idx = app.rr % candidates.count; app.rr &+= 1
                case .random: idx = Int(rng.next() % UInt64(candidates.count))
                }
                if let c = conns[candidates[idx]], c.helloSent, c.state == .live || c.state == .ghost {
                    chosen = c
                    break
                }
            }
        }
        guard let c = chosen else {
            let t = templates[w.template]
            if t.type == .eventsAPI, !config.queueWhileDisconnected {
                retiredCounters.failedAfterRetries += 1
            } else {
                waiting.append(w)
            }
            return
        }
        let pendingEntry = Pending(work: w, connection: c.id, sentAt: now)
        let id: EnvelopeID
        if let old = w.reuse, let slot = table.find(old), table.outcome(slot) == .awaitingRetry {
            table.resume(slot, pendingEntry)
            id = old
        } else {
            id = table.insert(pendingEntry, rng: &rng)
        }
        writeEnvelope(c, id: id, work: w)
        c.counters.delivered += 1
        if w.attempt > 0 { c.counters.redelivered += 1 }
        deadlines.append((id, now + config.ackDeadline))
    }

    /// Frames the envelope straight into the connection's output buffer.
    func writeEnvelope(_ c: Conn, id: EnvelopeID, work: Work) {
        guard c.state != .ghost else { return }
        let t = templates[work.template]
        let tail = templateIsEvent[work.template]
            ? EnvelopeText.eventTails[min(work.attempt, EnvelopeText.eventTails.count - 1)] : t.tail
        let length = EnvelopeText.head.count + 36 + EnvelopeText.mid.count + t.bytes.count + tail.count
        // Work on a local buffer: one exclusive access to `c.out` instead of one per append
        // (the storage stays uniquely referenced, so nothing is copied).
        var out = c.out
        c.out = []
        Self.frameHeader(into: &out, opcode: 0x1, length: length)
        out.append(contentsOf: EnvelopeText.head)
        id.write(into: &out)
        out.append(contentsOf: EnvelopeText.mid)
        let payloadStart = out.count
        out.append(contentsOf: t.bytes)
        if let at = t.eventIDDigits {
            out.withUnsafeMutableBufferPointer { b in
                var v = work.eventNumber
                for i in stride(from: 15, through: 0, by: -1) {
                    b[payloadStart + at + i] = UInt8(48 + v % 10)
                    v /= 10
                }
            }
        }
        out.append(contentsOf: tail)
        c.out = out
        markWritable(c.id)
    }

    func flushWaiting(app: Int, now: Double) {
        guard waiting.contains(where: { $0.app == app }) else { return }
        let queued = waiting
        waiting.removeAll()
        for w in queued {
            if w.app == app { deliver(w, now: now) } else { waiting.append(w) }
        }
    }

    // MARK: acks

    /// A complete client text frame (all fragments) arrived on `id`.
    public func received(_ id: ConnectionID, _ frame: UnsafeRawBufferPointer, now: Double) {
        guard let c = conns[id] else { return }
        let frameAck: AckFrame
        do {
            frameAck = try AckScanner.scan(frame)
        } catch {
            if error.kind.isSemantic { c.counters.nonAckFrames += 1 } else { c.counters.malformedFrames += 1 }
            return
        }
        guard frameAck.envelopeID.isPresent, !frameAck.envelopeID.isEscaped,
              let eid = EnvelopeID.parse(frameAck.envelopeID.bytes(in: frame))
        else {
            c.counters.unknownAcks += 1
            return
        }
        let payload = frameAck.payload.isPresent ? Array(frameAck.payload.bytes(in: frame)) : nil
        ack(eid, payload: payload, on: c, now: now)
    }

    /// `payload`: the ack's `payload` JSON, when it has one.
    func ack(_ eid: EnvelopeID, payload: [UInt8]?, on c: Conn, now: Double) {
        guard let slot = table.find(eid) else { c.counters.unknownAcks += 1; return }
        switch table.outcome(slot) {
        case .acked: c.counters.duplicateAcks += 1; return
        case .timedOut, .awaitingRetry: c.counters.lateAcks += 1; return
        case .pending: break
        }
        if !config.acksOnAnyConnection, table.pending(slot).connection != c.id {
            c.counters.wrongConnectionAcks += 1
            return
        }
        let p = table.settle(slot, acked: true)
        if templates[p.work.template].eventIDDigits != nil { ackedEvents.insert(p.work.eventNumber) }
        if templateIsEvent[p.work.template] {
            let app = apps[p.work.app]
            app.disableRule.delivered()
            app.disableRule.acked()
        }
        let owner = p.connection == c.id ? c : (conns[p.connection] ?? c)
        owner.counters.acked += 1
        owner.latency.record(microseconds: UInt64(max(0, now - p.work.intendedAt) * 1_000_000))
        if let payload {
            responses.append(ResponseLog.Entry(type: templates[p.work.template].type, label: templateLabel[p.work.template],
                                               delivery: .socket, envelopeID: eid.description, body: payload))
            if templates[p.work.template].acceptsResponsePayload { owner.counters.responsePayloads += 1 }
            else { owner.counters.ignoredResponsePayloads += 1 }
        }
        if load != nil { refillWindow(now: now) }
    }

    /// A client frame of `maxClientFrame` bytes or more: close 1009 or drop silently.
    public func oversize(_ id: ConnectionID) {
        guard let c = conns[id] else { return }
        c.counters.oversizeFrames += 1
        if config.oversize == .close1009 {
            c.ending = .close(code: 1009, reason: "Max frame length of \(config.maxClientFrame) has been exceeded.")
            c.state = .closing
            markWritable(id)
        }
    }

    /// A binary frame arrived (Socket Mode uses text only; counted and ignored).
    public func binary(_ id: ConnectionID) { conns[id]?.counters.binaryFrames += 1 }

    // MARK: deadlines, retries, load

    func tickDelivery(now: Double) {
        checkDisableRules(now: now)
        while let (id, deadline) = deadlines.first, deadline <= now {
            deadlines.removeFirst()
            guard let slot = table.find(id), table.outcome(slot) == .pending else { continue }
            let willRetry = templateIsEvent[table.pending(slot).work.template]
                && table.pending(slot).work.attempt < config.retryDelays.count
            let keepID = willRetry && !config.newEnvelopeIDPerRetry
            let p = keepID ? table.holdForRetry(slot) : table.settle(slot, acked: false)
            if templateIsEvent[p.work.template] { apps[p.work.app].disableRule.delivered() }
            let t = templates[p.work.template]
            let counters: (inout DeliveryCounters) -> Void
            if t.type != .eventsAPI {
                counters = { $0.userVisibleFailures += 1 }
            } else if p.work.attempt >= config.retryDelays.count {
                counters = { $0.failedAfterRetries += 1 }
            } else {
                counters = { _ in }
                var w = p.work
                w.attempt += 1
                w.reuse = keepID ? id : nil
                let due = now + config.real(config.retryDelays[p.work.attempt])
                w.intendedAt = due
                retryQueues[min(w.attempt, 3)].append((due, w))
            }
            if let c = conns[p.connection] { counters(&c.counters) } else { counters(&retiredCounters) }
        }
        for q in 0..<retryQueues.count {
            while let (due, w) = retryQueues[q].first, due <= now {
                retryQueues[q].removeFirst()
                deliver(w, now: now)
            }
        }
        tickLoad(now: now)
    }

    /// Starts the load generator: `total` envelopes for `app` from the template `mix`
    /// (indices of `app`'s templates, `template(kind:app:)`, repeated for weight), at a fixed `rate` per second or with `window` in
    /// flight. Returns false (and starts nothing) for an unknown app index.
    @discardableResult
    public func startLoad(rate: Double?, window: Int?, total: Int, mix: [Int], app: Int = 0, now: Double, cpuNow: Double) -> Bool {
        guard apps.indices.contains(app) else { return false }
        let mode: LoadRun.Mode = rate.map { .rate($0) } ?? .window(max(1, window ?? 1000))
        load = LoadRun(mode: mode, mix: mix.isEmpty ? [template(kind: "message", app: app) ?? 0] : mix, app: app, total: total,
                       startedAt: now, startCPU: cpuNow)
        startedAt = now
        tickLoad(now: now)
        return true
    }

    /// True once every generated envelope is settled (acked, failed or lost).
    public var loadFinished: Bool {
        guard let l = load else { return true }
        return l.issued >= l.total && table.count == 0 && httpInFlight == 0 && waiting.isEmpty && retryQueues.allSatisfy(\.isEmpty)
    }

    /// Rate mode: when the next generated envelope is due (nil: nothing left to send on a
    /// schedule). The transport sleeps until then.
    public var nextLoadDue: Double? {
        guard let l = load, l.issued < l.total, case .rate(let r) = l.mode else { return nil }
        return l.startedAt + Double(l.issued) / r
    }

    func tickLoad(now: Double) {
        guard var l = load, l.issued < l.total else { return }
        switch l.mode {
        case .rate(let r):
            let due = min(l.total, Int((now - l.startedAt) * r) + 1)
            while l.issued < due {
                let intended = l.startedAt + Double(l.issued) / r
                l.maxLag = max(l.maxLag, now - intended)
                var w = Work(template: l.mix[l.issued % l.mix.count], eventNumber: nextEvent, attempt: 0, intendedAt: intended)
                w.app = l.app
                nextEvent += 1
                l.issued += 1
                deliver(w, now: now)
            }
            load = l
        case .window:
            refillWindow(now: now)
        }
    }

    func refillWindow(now: Double) {
        guard var l = load, case .window(let window) = l.mode else { return }
        while l.issued < l.total, table.count + httpInFlight < window {
            var w = Work(template: l.mix[l.issued % l.mix.count], eventNumber: nextEvent, attempt: 0, intendedAt: now)
            w.app = l.app
            nextEvent += 1
            l.issued += 1
            deliver(w, now: now)
            if apps[l.app].mode == .socket, apps[l.app].connections.isEmpty { break }
        }
        load = l
    }

    // MARK: reporting

    func report(_ c: Conn) -> ConnectionReport {
        ConnectionReport(connection: c.id.description, app: apps[c.app].config.appID, state: c.state.rawValue,
                         counters: c.counters, latencyMs: c.latency.summary)
    }

    /// Counters so far: every open connection, the last closed ones, and the total (which
    /// includes `extra`, e.g. HTTP delivery's counters and latencies).
    public func report(now: Double, cpuNow: Double? = nil) -> SimReport { report(now: now, cpuNow: cpuNow, extra: nil) }

    func report(now: Double, cpuNow: Double?, extra: (DeliveryCounters, LatencyRecorder)?) -> SimReport {
        var total = retiredCounters
        var latency = retiredLatency
        if let (c, l) = extra { total.add(c); latency.add(l) }
        var rows = Array(closedReports)
        for c in conns.values.sorted(by: { $0.id.raw < $1.id.raw }) {
            total.add(c.counters)
            latency.add(c.latency)
            rows.append(report(c))
        }
        let start = load?.startedAt ?? startedAt
        let end = load?.finishedAt ?? now
        let elapsed = max(1e-9, end - start)
        var r = SimReport(elapsedSeconds: elapsed, total: total, latencyMs: latency.summary,
                          envelopesPerSecond: Double(total.acked) / elapsed, connections: rows,
                          inFlight: table.count, queued: waiting.count + retryQueues.reduce(0) { $0 + $1.count },
                          connectionsOpened: connectionsOpened, connectionsRefused: connectionsRefused)
        r.tooManyRejections = tooManyRejections
        r.eventsDisabled = eventsDisabled
        r.droppedWhileDisabled = droppedWhileDisabled
        r.apps = appReports()
        if let l = load, let cpu = l.finishedCPU ?? cpuNow {
            let busy = min(1, max(0, cpu - l.startCPU) / elapsed)
            r.simBusyFraction = busy
            switch l.mode {
            case .rate:
                r.maxSendLagMs = l.maxLag * 1000
                r.saturated = LoadVerdict.rate(maxLag: l.maxLag, busy: busy)
            case .window:
                r.saturated = LoadVerdict.window(busy: busy)
            }
        }
        r.settleLosses()
        return r
    }

    /// Marks the load run finished: freezes the elapsed time used for rates and, given
    /// `cpuNow` (the calling thread's CPU seconds), the CPU time used for the busy fraction.
    public func markLoadFinished(now: Double, cpuNow: Double? = nil) {
        guard load != nil, load?.finishedAt == nil else { return }
        load?.finishedAt = now
        load?.finishedCPU = cpuNow
    }
}
