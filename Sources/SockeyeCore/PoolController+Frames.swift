// Frames, pongs and acknowledgements.

extension PoolController {
    /// Feeds one complete text message received on `connection`. `.deliver` actions that
    /// follow carry views into `frame`: drain them before the buffer is reused.
    ///
    /// Returns whether the frame scanned as a Socket Mode message; a frame that did not is
    /// counted, reported as `.malformedFrame` and dropped (a caller that left UTF-8 checking
    /// to the scanner checks the text then: `WebSocketFrameDecoder.checksUnfragmentedText`).
    @discardableResult
    public mutating func receive(frame: UnsafeRawBufferPointer, on connection: ConnectionID, now: Instant) -> Bool {
        defer { updateState() }
        guard let index = connectionIndex(connection) else { return true }
        connections[index].lastHeard = now
        metrics.framesReceived += 1
        let envelope: Envelope
        do {
            envelope = try EnvelopeScanner.scan(frame)
        } catch {
            metrics.malformedFrames += 1
            emit(.notice(.malformedFrame(connection, error)))
            return false
        }
        switch envelope.kind {
        case .hello:
            hello(envelope, host: JSONStringDecoder.string(envelope.debugHost, in: frame), index: index, now: now)
        case .disconnect:
            disconnect(envelope.disconnectReason, index: index, now: now)
        case .eventsAPI, .slashCommands, .interactive, .unknown:
            deliver(envelope, frame: frame, connection: connection, now: now)
        }
        pump(now: now)
        return true
    }

    /// Feeds a pong received on `connection`. Only a pong echoing one of this connection's
    /// own pings counts as a sign of life; stale or foreign pongs are ignored.
    public mutating func receivePong(_ payload: UnsafeRawBufferPointer, on connection: ConnectionID, now: Instant) {
        guard let index = connectionIndex(connection), let pong = PingPayload(pong: payload),
            pong.connection == connection, pong.sequence >= 1, pong.sequence <= connections[index].pingSequence
        else { return }
        metrics.pongsMatched += 1
        connections[index].lastHeard = now
        connections[index].lastPong = now
    }

    mutating func hello(_ envelope: Envelope, host: String?, index: Int, now: Instant) {
        guard connections[index].phase == .awaitingHello || connections[index].phase == .connecting else { return }
        let id = connections[index].id
        connections[index].phase = .live
        connections[index].deadline = nil
        connections[index].lastPong = now
        connections[index].nextPingAt = now + configuration.pingInterval
        if let seconds = envelope.approximateConnectionTime, seconds >= 60,
            let fraction = configuration.proactiveRefreshFraction
        {
            connections[index].refreshAt = now + Duration.seconds(seconds).scaled(by: fraction)
        }
        backoff.reset()
        metrics.connectionsOpened += 1
        metrics.slackConnectionCount = envelope.numConnections
        emit(.notice(.hello(id, numConnections: envelope.numConnections,
                            approximateConnectionTime: envelope.approximateConnectionTime, host: host)))
        // Under a host's limit other processes share the app by design: nothing to say.
        if connectionLimit == nil, let slackCount = envelope.numConnections, slackCount > Int64(connections.count) {
            emit(.notice(.moreConnectionsThanOpen(id, slackCount: slackCount, open: connections.count)))
        }
        // A replacement is up: one connection that was waiting for it may go.
        if let old = connections.firstIndex(where: {
            $0.retiring != nil && $0.closeWhenReplaced && $0.phase == .live && $0.closeAt == nil
        }) {
            replaced(old, now: now)
        }
        refreshRescue = false  // a connection is live again: the pool is not deaf
        if target < sizer.size {
            regrowAt = now + tooManyWebsocketsBackoff.base
        } else if liveCount >= sizer.size {
            tooManyWebsocketsBackoff.reset()
        }
        flushQueuedAcks()
    }

    mutating func disconnect(_ reason: DisconnectReason, index: Int, now: Instant) {
        switch reason {
        case .warning:
            retire(index, .warning, closeWhenReplaced: false, now: now)
        case .refreshRequested:
            // The close that follows would leave the pool deaf: allow a replacement past the limiter.
            if !connections[index].closeWhenReplaced && connections[index].phase == .live
                && activeLiveCount(excluding: index) == 0
            {
                refreshRescue = true
            }
            connections[index].slackCloses = true
            retire(index, .refreshRequested, closeWhenReplaced: true, now: now)
            // Already replaced (after a warning).
            if connections[index].phase == .live && connections[index].closeAt == nil && liveReplacementExists(for: index) {
                replaced(index, now: now)
            }
        case .linkDisabled:
            failure = .linkDisabled
            if let retry = configuration.linkDisabledRetry { linkRetryAt = now + retry }
            for other in connections.indices where connections[other].phase != .closing {
                beginClose(other, now: now)
            }
        case .tooManyWebsockets:
            metrics.tooManyWebsockets += 1
            let id = connections[index].id
            if connections[index].phase != .closing { beginClose(index, now: now) }
            connections[index].lossReported = true
            target = max(1, min(target, activeCount))
            let delay = tooManyWebsocketsBackoff.nextDelay(using: &random)
            retryNotBefore = max(retryNotBefore, now + delay)
            regrowAt = target < sizer.size ? now + delay : nil
            emit(.notice(.tooManyWebsockets(id, newTarget: target, retryIn: delay)))
        case .unknown, .none:
            let delay = backoff.nextDelay(using: &random)
            retryNotBefore = max(retryNotBefore, now + delay)
            connections[index].slackCloses = true
            retire(index, .unknownDisconnect, closeWhenReplaced: true, now: now)
        }
    }

    /// A retiring connection's replacement is live. With a `refreshLinger`, one Slack said
    /// it will close stays open, read and acked, until Slack closes it (what Slack still
    /// sends on it is taken, not redelivered), or until the linger runs out; otherwise, and
    /// for one the pool retired itself (proactive refresh), it closes now.
    mutating func replaced(_ index: Int, now: Instant) {
        if connections[index].slackCloses && configuration.refreshLinger > .zero {
            connections[index].closeAt = now + configuration.refreshLinger
        } else {
            beginClose(index, now: now)
        }
    }

    /// Whether enough live, non-retiring connections other than `index` exist to take over.
    func liveReplacementExists(for index: Int) -> Bool { activeLiveCount(excluding: index) >= target }

    /// Live, non-retiring connections other than `index`.
    func activeLiveCount(excluding index: Int) -> Int {
        connections.indices.filter { $0 != index && connections[$0].phase == .live && connections[$0].retiring == nil }.count
    }

    /// Marks a connection for replacement; the pump opens the replacement because retiring
    /// connections do not count toward the target.
    mutating func retire(_ index: Int, _ reason: RetireReason, closeWhenReplaced: Bool, now: Instant) {
        guard connections[index].phase != .closing else { return }
        if connections[index].retiring == nil {
            connections[index].retiring = reason
            metrics.refreshes += 1
            emit(.notice(.retiring(connections[index].id, reason)))
        }
        if closeWhenReplaced { connections[index].closeWhenReplaced = true }
        // At the connection budget no replacement can open until this one is gone:
        // break before make rather than wait for Slack's close.
        if connections[index].closeWhenReplaced && connections.count >= socketBudget {
            beginClose(index, now: now)
        }
    }

    mutating func deliver(_ envelope: Envelope, frame: UnsafeRawBufferPointer, connection: ConnectionID, now: Instant) {
        if let attempt = envelope.retryAttempt, attempt > 0 { metrics.redeliveriesReceived += 1 }
        // Draining: the host is going away. Not acking makes Slack redeliver it elsewhere.
        guard !stopping else {
            metrics.refusedWhileStopping += 1
            return
        }
        let token = DeliveryToken(rawValue: nextTokenValue)
        nextTokenValue += 1
        guard envelope.needsAck else {
            metrics.envelopesDelivered += 1
            emit(.deliver(Delivery(token: token, connection: connection, envelope: envelope)))
            return
        }
        let id = EnvelopeID(view: envelope.envelopeID, in: frame)
        // Events by (team, event id): a retry has a new envelope id. Slash commands and
        // interactions have no event id; Slack redelivers them (after a lost connection)
        // under the same envelope id.
        let key =
            envelope.eventID.isPresent
            ? JSONStringDecoder.withDecoded(envelope.teamID, in: frame) { team in
                JSONStringDecoder.withDecoded(envelope.eventID, in: frame) { event in
                    DedupWindow.Key(teamID: team, eventID: event)
                }
            }
            : JSONStringDecoder.withDecoded(envelope.envelopeID, in: frame) { DedupWindow.Key(envelopeID: $0) }
        // The host still holds the first copy: this one shares its fate.
        if let first = acks.heldToken(for: key) {
            coalesce(id, connection: connection, into: first, token: token)
            return
        }
        guard dedup.insert(key, now: now) else {
            metrics.duplicatesDropped += 1
            sendAck(AckMessage(envelopeID: id, payload: nil), preferring: connection)
            emit(.notice(.duplicateDropped(connection, token)))
            return
        }
        let dedupKey: DedupWindow.Key? = key
        if configuration.ackMode == .onReceipt {
            sendAck(AckMessage(envelopeID: id, payload: nil), preferring: connection)
        } else {
            acks.track(token, id: id, connection: connection, kind: envelope.kind, dedupKey: dedupKey, now: now)
        }
        metrics.envelopesDelivered += 1
        emit(.deliver(Delivery(token: token, connection: connection, envelope: envelope)))
    }

    /// Acknowledges a delivery, optionally with a response payload (the raw JSON text of
    /// one object). An invalid or oversized payload is rejected and nothing is consumed,
    /// so the host can ack again without one. Redeliveries attached to it are acked too,
    /// with the same payload.
    public mutating func ack(_ token: DeliveryToken, payload: UnsafeRawBufferPointer? = nil, now: Instant) -> AckOutcome {
        var message: AckMessage? = nil
        if let payload, payload.count > 0 {
            // Checked before the entry is consumed, so a refused payload leaves it ackable.
            guard let entry = acks.peek(token) else {
                return token.rawValue < nextTokenValue && token.rawValue > 0 ? .alreadyAcked : .unknown
            }
            let withPayload = AckMessage(envelopeID: entry.id, payload: Array(payload))
            message = withPayload
            do throws(AckEncodingError) {
                // Encode once into scratch space: validates the JSON and the size limit.
                _ = try withUnsafeTemporaryAllocation(byteCount: AckEncoder.maxFrameSize, alignment: 1) {
                    (scratch) throws(AckEncodingError) -> Int in
                    try withPayload.encode(into: scratch, headroom: 0)
                }
            } catch {
                return .rejected(error)
            }
        }
        let outcome: AckOutcome
        switch acks.resolve(token) {
        case .onTime(let entry):
            sendAcks(message ?? AckMessage(envelopeID: entry.id, payload: nil), for: entry)
            outcome = .accepted
        case .late(let entry):
            metrics.acksLate += 1
            sendAcks(message ?? AckMessage(envelopeID: entry.id, payload: nil), for: entry)
            outcome = .late
        case .unknown:
            return token.rawValue < nextTokenValue && token.rawValue > 0 ? .alreadyAcked : .unknown
        }
        finishDrainIfDone(now: now)
        updateState()
        return outcome
    }

    /// Sends on the arrival connection if it is live, else on any live connection (a
    /// non-retiring one first), else queues until one is.
    mutating func sendAck(_ message: AckMessage, preferring connection: ConnectionID) {
        let target =
            connections.first { $0.id == connection && $0.phase == .live }
            ?? connections.first { $0.phase == .live && $0.retiring == nil }
            ?? connections.first { $0.phase == .live }
        if let target {
            metrics.acksSent += 1
            emit(.sendAck(target.id, message))
        } else {
            if queuedAcks.count >= Self.queuedAckLimit { queuedAcks.removeFirst() }
            queuedAcks.append(message)
        }
    }

    /// Acks the transport had not written yet when `connection` ended: they go out again on
    /// another live connection, or wait for one. Slack matches an ack by envelope id on any
    /// connection of the app, and a slash command whose ack is lost is never retried.
    /// Call it after reporting the connection `.closed`.
    public mutating func resendUnwritten(_ messages: [AckMessage], from connection: ConnectionID, now: Instant) {
        for message in messages {
            metrics.acksResent += 1
            sendAck(message, preferring: connection)
        }
        updateState()
    }

    mutating func flushQueuedAcks() {
        guard !queuedAcks.isEmpty, let live = connections.first(where: { $0.phase == .live }) else { return }
        for message in queuedAcks {
            metrics.acksSent += 1
            emit(.sendAck(live.id, message))
        }
        queuedAcks.removeAll()
    }
}

extension JSONStringDecoder {
    /// Calls `body` with the decoded bytes of a string view (empty when absent).
    static func withDecoded<R>(_ view: ByteView, in frame: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        guard view.isPresent else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        let raw = view.bytes(in: frame)
        guard view.isEscaped else { return body(raw) }
        return withUnsafeTemporaryAllocation(byteCount: max(raw.count, 1), alignment: 1) { scratch in
            let length = decode(raw, into: scratch) ?? 0
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length]))
        }
    }
}
