// Stopping: a graceful drain, or at once.
//
// A host that stops while it still holds deliveries would otherwise lose its acks with
// the connections: Slack then retries events the host has handled. So `.stop`:
// 1. delivers nothing new — an envelope arriving now is neither delivered nor acked
//    (counted `refusedWhileStopping`): Slack redelivers it, to this process's successor
//    or to another process sharing the app;
// 2. closes at once the connections that are not live (they carry no deliveries), opens
//    no new ones, and drops any URL that arrives;
// 3. keeps live connections open while the host holds unacknowledged deliveries (pending,
//    or late with the guard off), so its acks — and the ack guard's — are sent; at most
//    `drainTimeout` (3 s by default: just past the guard's 2.5 s, so with the guard on
//    every delivery is answered before the drain ends);
// 4. sends any acks still queued, then closes every connection with 1000. The state is
//    `.stopping` throughout and `.stopped` once the transport reported every close.
// `.stopNow` skips step 3.

extension PoolController {
    /// Starts stopping; `graceful` drains first. A `.stopNow` during a drain ends it.
    mutating func beginStop(graceful: Bool, now: Instant) {
        if stopping {
            if !graceful && drainDeadline != nil { finishDrain(now: now) }
            return
        }
        stopping = true
        guard graceful else {
            finishDrain(now: now)
            return
        }
        for index in connections.indices where connections[index].phase != .closing && connections[index].phase != .live {
            beginClose(index, now: now)
        }
        drainDeadline = now + configuration.drainTimeout
        finishDrainIfDone(now: now)
    }

    /// Ends the drain once nothing is left to ack, or nothing is left to ack on.
    /// (The deadline is handled by the timer.)
    mutating func finishDrainIfDone(now: Instant) {
        guard drainDeadline != nil else { return }
        if acks.unresolved == 0 || liveCount == 0 {
            finishDrain(now: now)
        }
    }

    /// Flushes queued acks, then closes every connection with 1000.
    mutating func finishDrain(now: Instant) {
        drainDeadline = nil
        flushQueuedAcks()
        for index in connections.indices where connections[index].phase != .closing {
            beginClose(index, now: now)
        }
    }
}
