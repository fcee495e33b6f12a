// Nacks, and redeliveries that arrive while the first copy is still held.
//
// Slack redelivers an event whose envelope was not acked in 3 s, with a new envelope id
// and the same team_id + event_id (docs/protocol.md, Retries and de-duplication); it also sometimes sends one attempt
// twice. Acking such a redelivery at once, as a plain de-duplicator would, is wrong while
// the host still holds the first copy: if the host then fails (a durable sink that cannot
// write nacks), Slack has already been told the event arrived, and it is lost. So a
// redelivery of a held event is *attached* to the first copy:
//
// - host ack, ack guard  -> the first copy and every attached envelope are acked, each
//                           on its own arrival connection if it is still live;
// - host nack            -> nothing is acked, the event id is forgotten, attached
//                           envelopes are released unacked: Slack retries, and that
//                           retry is delivered to the host as a new delivery;
// - late window closes   -> (ack guard off) the host never answered: same as a nack.
//
// Deadlines. An attached redelivery has its own 3 s deadline, which always ends later
// than the first copy's (it arrived later), so it needs no guard of its own: with the
// guard on, the first copy's guard (2.5 s after the first receipt) acks both, early.
// With the guard off, the first copy goes *late* at its deadline but stays held for the
// late window (60 s), and redeliveries keep attaching to it — Slack's first retry comes
// right after that deadline. A host that acks late (after the first copy's deadline,
// before the redelivery's) still gets the redelivery's ack out on time, so Slack stops
// retrying, and the event was handled once.
//
// Memory. At most `maxRedeliveriesPerEvent` attachments per event and
// `maxRedeliveriesHeld` in total (about 64 bytes each). A redelivery past either bound is
// acked and dropped as before this existed (counted in `redeliveriesOverflowed`, reported
// as `duplicateDropped`): a flood of copies of one event is Slack misbehaving, and
// memory must stay bounded.

extension PoolController {
    /// Refuses a delivery the host could not take: nothing is acked, the ack guard stands
    /// down for it, and the event is forgotten by de-duplication so that Slack's
    /// redelivery (after its 3 s deadline) is delivered again. Redeliveries attached to it
    /// are released unacked too.
    ///
    /// `.alreadyAcked` when the delivery was already acked (by the host, on receipt in
    /// `.onReceipt` mode, or by the ack guard) or nacked; `.unknown` for a token this pool
    /// never issued or no longer remembers.
    public mutating func nack(_ token: DeliveryToken, now: Instant) -> NackOutcome {
        let entry: AckTracker.Entry
        switch acks.resolve(token) {
        case .onTime(let held), .late(let held):
            entry = held
        case .unknown:
            return token.rawValue < nextTokenValue && token.rawValue > 0 ? .alreadyAcked : .unknown
        }
        metrics.nacked += 1
        release(entry)
        finishDrainIfDone(now: now)
        updateState()
        return .accepted
    }

    /// Attaches the redelivery `id` (its own delivery `token` is spent, never handed out)
    /// to the held delivery `first`, or acks and drops it at the memory bound.
    mutating func coalesce(_ id: EnvelopeID, connection: ConnectionID, into first: DeliveryToken, token: DeliveryToken) {
        switch acks.attach(AckTracker.Attachment(id: id, connection: connection), to: first) {
        case .attached:
            metrics.redeliveriesCoalesced += 1
            emit(.notice(.redeliveryCoalesced(connection, into: first)))
        case .full:
            metrics.redeliveriesOverflowed += 1
            metrics.duplicatesDropped += 1
            sendAck(AckMessage(envelopeID: id, payload: nil), preferring: connection)
            emit(.notice(.duplicateDropped(connection, token)))
        }
    }

    /// Sends `message` for the entry and the same ack (same payload) for each attachment.
    mutating func sendAcks(_ message: AckMessage, for entry: AckTracker.Entry) {
        sendAck(message, preferring: entry.connection)
        for attached in entry.attached {
            sendAck(AckMessage(envelopeID: attached.id, payload: message.payload), preferring: attached.connection)
        }
    }

    /// Lets go of an entry the host will never ack: forgets its event so the next
    /// redelivery reaches the host, and leaves its attachments unacked for Slack to retry.
    mutating func release(_ entry: AckTracker.Entry) {
        if let key = entry.dedupKey { dedup.remove(key) }
        metrics.redeliveriesReleased += entry.attached.count
    }
}
