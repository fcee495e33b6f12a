import Sockeye
import SockeyeSinkKit
import Synchronization

/// One delivery for the runner: an envelope from the Socket Mode client, or an HTTP
/// request's event with the reply its listener waits for.
enum Inbound: Sendable {
    case socket(SocketModeEvent)
    case http(EventRecord, HTTPReply)
}

/// Deliveries merged into batches while the runner is busy: `put` never waits (HTTP
/// requests, bounded by the listener), `putWaiting` waits while `socketLimit` deliveries
/// are queued (the Socket Mode reader), `takeAll` returns everything queued (waiting when
/// nothing is), and `nil` once finished.
final class BatchInbox: Sendable {
    /// Queued deliveries at which `putWaiting` waits.
    let socketLimit: Int

    /// An inbox whose reader waits at `socketLimit` queued deliveries (at least 1): the
    /// client's own queue bound, so the two fill together.
    init(socketLimit: Int) {
        self.socketLimit = max(1, socketLimit)
    }

    private struct State {
        var items: [Inbound] = []
        var waiter: CheckedContinuation<Void, Never>?
        /// The reader waiting for room (`putWaiting`).
        var spaceWaiter: CheckedContinuation<Void, Never>?
        var finished = false
        var error: (any Error)?
    }
    private let state = Mutex(State())

    /// Queues `batch`; false (nothing queued) once the inbox is finished.
    @discardableResult
    func put(_ batch: [Inbound]) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (false, nil) }
            state.items.append(contentsOf: batch)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// `put`, once fewer than `socketLimit` deliveries are queued (or the inbox finished).
    /// One caller at a time (the Socket Mode reader).
    @discardableResult
    func putWaiting(_ batch: [Inbound]) async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.items.count < socketLimit || state.finished { return true }
                state.spaceWaiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
        return put(batch)
    }

    /// Queued deliveries.
    var count: Int { state.withLock { $0.items.count } }

    /// No more deliveries after those queued (`error`: the client failed for good).
    func finish(_ error: (any Error)?) {
        let (waiter, spaceWaiter) = state.withLock { state -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            guard !state.finished else { return (nil, nil) }
            state.finished = true
            state.error = error
            defer { state.waiter = nil; state.spaceWaiter = nil }
            return (state.waiter, state.spaceWaiter)
        }
        waiter?.resume()
        spaceWaiter?.resume()
    }

    /// Everything queued, waiting for some if none; nil at the end.
    func takeAll() async throws -> [Inbound]? {
        while true {
            let taken = state.withLock { state -> (items: [Inbound], done: Bool, error: (any Error)?, space: CheckedContinuation<Void, Never>?) in
                let items = state.items
                state.items.removeAll(keepingCapacity: true)
                defer { state.spaceWaiter = nil }
                return (items, state.finished, state.error, state.spaceWaiter)
            }
            taken.space?.resume()
            if !taken.items.isEmpty { return taken.items }
            if taken.done {
                if let error = taken.error { throw error }
                return nil
            }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if !state.items.isEmpty || state.finished { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
