import Glibc

/// The project's one lock: a pthread mutex with a condition variable on the monotonic
/// clock. ThreadSanitizer understands pthread (it does not see `Synchronization.Mutex` on
/// Linux), and the mutex is cheap uncontended. Heap-allocated so its address never moves.
/// Shared with the Swift front end and the C ABI (package access), not part of the public API.
///
/// `wait`, `signal` and `broadcast` are for code inside `withLock` (a gate, a semaphore, a
/// queue with blocking takers); a plain critical section only calls `withLock`.
package final class ServiceLock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>
    @usableFromInline let condition: UnsafeMutablePointer<pthread_cond_t>

    package init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        condition = .allocate(capacity: 1)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        // Timed waits count on CLOCK_MONOTONIC, so a wall-clock jump neither cuts nor stretches them.
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    @inlinable @inline(__always)
    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Inside `withLock`: releases the lock until woken, then holds it again. Wakes can be
    /// spurious: the caller re-checks its condition in a loop.
    @inlinable
    package func wait() {
        pthread_cond_wait(condition, mutex)
    }

    /// Inside `withLock`: like `wait()`, but gives up at `deadline` (`MonotonicClock`
    /// nanoseconds). Returns false when the deadline passed, true when woken before it.
    @inlinable
    package func wait(until deadline: UInt64) -> Bool {
        var spec = timespec()
        spec.tv_sec = Int(clamping: deadline / 1_000_000_000)
        spec.tv_nsec = Int(deadline % 1_000_000_000)
        return pthread_cond_timedwait(condition, mutex, &spec) != ETIMEDOUT
    }

    /// Inside `withLock`: wakes one waiter.
    @inlinable
    package func signal() {
        pthread_cond_signal(condition)
    }

    /// Inside `withLock`: wakes every waiter.
    @inlinable
    package func broadcast() {
        pthread_cond_broadcast(condition)
    }
}

/// A value guarded by a `ServiceLock`, for state read from other threads (stats, states).
package final class Locked<Value>: @unchecked Sendable {
    private let lock = ServiceLock()
    private var value: Value

    package init(_ value: Value) { self.value = value }

    package func withValue<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        try lock.withLock { try body(&value) }
    }

    package var snapshot: Value { lock.withLock { value } }
}
