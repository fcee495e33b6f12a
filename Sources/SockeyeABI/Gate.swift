import SockeyeTransport

/// A one-shot gate on a `ServiceLock` (ThreadSanitizer sees it): `wait` blocks until some
/// thread has called `open`; opening twice is harmless.
final class Gate: @unchecked Sendable {
    private let lock = ServiceLock()
    private var isOpen = false  // under `lock`

    func open() {
        lock.withLock {
            isOpen = true
            lock.broadcast()
        }
    }

    func wait() {
        lock.withLock {
            while !isOpen { lock.wait() }
        }
    }

    /// Waits at most `timeoutMilliseconds`; returns whether the gate opened.
    func wait(timeoutMilliseconds: Int32) -> Bool {
        let deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMilliseconds)
        return lock.withLock {
            while !isOpen {
                if !lock.wait(until: deadline) { break }
            }
            return isOpen
        }
    }
}
