import Glibc

/// A pthread mutex. ThreadSanitizer understands it (it does not see `Synchronization.Mutex`
/// on Linux), and it is cheap uncontended. Heap-allocated so its address never moves.
/// Shared with the Swift front end (package access), not part of the public API.
package final class ServiceLock: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    package func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
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

/// The monotonic clock the core's `Instant` is read from.
enum MonotonicClock {
    static func now() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
