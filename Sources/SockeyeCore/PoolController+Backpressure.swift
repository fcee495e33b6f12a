// What the host's queues tell the pool: which deliveries the consumer has taken, and when
// the host stops reading because its consumer's queue is full.

extension PoolController {
    /// The host's consumer took `token` out of the queue it waited in (popped from a pull
    /// queue, yielded by a stream, taken by a batch loop). With
    /// `PoolConfiguration.ackGuardAwaitsTake` only taken deliveries are ever acked by the
    /// guard: at its usual time, or at once when that time passed while the delivery was
    /// queued (Slack's retry, attached to it meanwhile, is acked with it). Returns false when
    /// the delivery is not held any more.
    @discardableResult
    public mutating func taken(_ token: DeliveryToken, now: Instant) -> Bool {
        switch acks.take(token, now: now) {
        case .armed:
            return true
        case .overdue(let entry):
            metrics.ackGuardFired += 1
            sendAcks(AckMessage(envelopeID: entry.id, payload: nil), for: entry)
            emit(.notice(.ackGuardFired(token)))
            return true
        case .unknown:
            return false
        }
    }

    /// The host stopped (`true`) or resumed (`false`) reading its connections because its
    /// consumer's queue reached its bound (see `IntakeGate`). While stopped, the silence and
    /// pong watchdogs wait: nothing can be heard on a socket nobody reads. On resume they
    /// start afresh from `now`.
    public mutating func setIntakePaused(_ paused: Bool, now: Instant) {
        guard paused != intakePaused else { return }
        intakePaused = paused
        guard !paused else { return }
        for index in connections.indices where connections[index].phase == .live {
            connections[index].lastHeard = now
            connections[index].lastPong = now
        }
    }

    /// Whether the host said it stopped reading (`setIntakePaused(_:now:)`).
    public var isIntakePaused: Bool { intakePaused }
}
