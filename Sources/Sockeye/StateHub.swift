import Glibc
import SockeyeCore
import SockeyeTransport

/// Fans a client's states and notices out to any number of `AsyncStream` subscribers.
final class StateHub: @unchecked Sendable {
    private let lock = StateLock()
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

/// A pthread mutex (visible to ThreadSanitizer, unlike `Synchronization.Mutex` on Linux).
final class StateLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t> = {
        let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        return mutex
    }()

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }
}
