import SockeyeCore
import SockeyeTransport

/// Fans a client's states and notices out to any number of `AsyncStream` subscribers, and
/// wakes those waiting for the client's end (`stopped` or `failed`).
final class StateHub: @unchecked Sendable {
    private let lock = ServiceLock()
    private var current: PoolState = .idle
    private var stateSubscribers: [AsyncStream<PoolState>.Continuation] = []
    private var noticeSubscribers: [AsyncStream<SocketModeNotice>.Continuation] = []
    private var finished = false
    /// The client's last state once it is `stopped` or `failed`.
    private var end: PoolState?
    /// Set when a stop was asked for and nothing ended the client in time (see `giveUp`).
    private var gaveUp = false
    private var endWaiters: [CheckedContinuation<PoolState?, Never>] = []

    func publish(_ state: PoolState) {
        let (subscribers, waiters) = lock.withLock { () -> ([AsyncStream<PoolState>.Continuation], [CheckedContinuation<PoolState?, Never>]) in
            current = state
            if state == .stopped { finished = true }
            guard Self.isEnd(state), end == nil else { return (stateSubscribers, []) }
            end = state
            defer { endWaiters = [] }
            return (stateSubscribers, endWaiters)
        }
        for subscriber in subscribers {
            subscriber.yield(state)
            if state == .stopped { subscriber.finish() }
        }
        for waiter in waiters { waiter.resume(returning: state) }
        if state == .stopped {
            let notices = lock.withLock { noticeSubscribers }
            for subscriber in notices { subscriber.finish() }
        }
    }

    func publish(_ notice: SocketModeNotice) {
        for subscriber in lock.withLock({ noticeSubscribers }) { subscriber.yield(notice) }
    }

    func subscribeStates() -> AsyncStream<PoolState> {
        let (stream, continuation) = AsyncStream<PoolState>.makeStream()
        let (state, done) = lock.withLock { () -> (PoolState, Bool) in
            if !finished { stateSubscribers.append(continuation) }
            return (current, finished)
        }
        continuation.yield(state)
        if done { continuation.finish() }
        return stream
    }

    /// Notices from now on; at most `limit` wait unread (the oldest are dropped first).
    func subscribeNotices(limit: Int? = nil) -> AsyncStream<SocketModeNotice> {
        let policy: AsyncStream<SocketModeNotice>.Continuation.BufferingPolicy = limit.map { .bufferingNewest(max(1, $0)) } ?? .unbounded
        let (stream, continuation) = AsyncStream<SocketModeNotice>.makeStream(bufferingPolicy: policy)
        let done = lock.withLock { () -> Bool in
            if !finished { noticeSubscribers.append(continuation) }
            return finished
        }
        if done { continuation.finish() }
        return stream
    }

    /// Waits until the client stopped or failed, and returns that state; nil when `giveUp`
    /// came first. Not ended by task cancellation: a stop in progress is waited for.
    func waitForEnd() async -> PoolState? {
        await withCheckedContinuation { (waiter: CheckedContinuation<PoolState?, Never>) in
            let now = lock.withLock { () -> PoolState?? in
                if let end { return .some(end) }
                if gaveUp { return .some(nil) }
                endWaiters.append(waiter)
                return .none
            }
            if let now { waiter.resume(returning: now) }
        }
    }

    /// Wakes every `waitForEnd`, now and later, with nil: a stop was asked for and the
    /// client did not end within its bound (its runtime shut down, so no state will come).
    func giveUp() {
        let waiters = lock.withLock { () -> [CheckedContinuation<PoolState?, Never>] in
            guard end == nil else { return [] }
            gaveUp = true
            defer { endWaiters = [] }
            return endWaiters
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    private static func isEnd(_ state: PoolState) -> Bool {
        if case .failed = state { return true }
        return state == .stopped
    }
}
