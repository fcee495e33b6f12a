import SockeyeCore
import SockeyeTransport

/// Fans a client's states and notices out to any number of `AsyncStream` subscribers.
final class StateHub: @unchecked Sendable {
    private let lock = ServiceLock()
    private var current: PoolState = .idle
    private var stateSubscribers: [AsyncStream<PoolState>.Continuation] = []
    private var noticeSubscribers: [AsyncStream<ClientNotice>.Continuation] = []
    private var finished = false

    func publish(_ state: PoolState) {
        let subscribers = lock.withLock { () -> [AsyncStream<PoolState>.Continuation] in
            current = state
            if state == .stopped { finished = true }
            return stateSubscribers
        }
        for subscriber in subscribers {
            subscriber.yield(state)
            if state == .stopped { subscriber.finish() }
        }
        if state == .stopped {
            let notices = lock.withLock { noticeSubscribers }
            for subscriber in notices { subscriber.finish() }
        }
    }

    func publish(_ notice: ClientNotice) {
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

    func subscribeNotices() -> AsyncStream<ClientNotice> {
        let (stream, continuation) = AsyncStream<ClientNotice>.makeStream()
        let done = lock.withLock { () -> Bool in
            if !finished { noticeSubscribers.append(continuation) }
            return finished
        }
        if done { continuation.finish() }
        return stream
    }
}
