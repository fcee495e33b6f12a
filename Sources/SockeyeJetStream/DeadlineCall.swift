import Dispatch
import SockeyeSinkKit
import Synchronization

/// Blocking libnats work awaited from async code with a deadline: the work runs on a
/// dispatch queue (never Swift's cooperative pool) and the caller waits at most `seconds`.
/// The work is given the deadline: work that has not begun by then (queued behind slow work)
/// should return at once, and work with several round trips should stop between them. Work
/// that outlives its deadline finishes on its queue and its result is dropped; `late` then
/// gets it (to undo it: a lock taken after the caller gave up).
package enum DeadlineCall {
    package static func run<T: Sendable>(seconds: Double, on queue: DispatchQueue,
                                         _ work: @escaping @Sendable (_ deadline: ContinuousClock.Instant) -> T,
                                         late: (@Sendable (T) -> Void)? = nil) async -> T? {
        let waiter = Waiter<T>()
        let deadline = ContinuousClock.now + BoundedTime.duration(seconds)
        return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            waiter.arm(continuation)
            queue.async {
                let result = work(deadline)
                if !waiter.finish(result) { late?(result) }
            }
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(BoundedTime.milliseconds(seconds)))) {
                _ = waiter.finish(nil)
            }
        }
    }

    /// Resumes the continuation once: with the work's result or, at the deadline, nil.
    private final class Waiter<T: Sendable>: Sendable {
        private let state = Mutex<(continuation: CheckedContinuation<T?, Never>?, done: Bool)>((nil, false))

        func arm(_ continuation: CheckedContinuation<T?, Never>) {
            state.withLock { $0.continuation = continuation }
        }

        /// Whether `result` reached the caller (false: the caller was answered already).
        func finish(_ result: T?) -> Bool {
            let continuation = state.withLock { state -> CheckedContinuation<T?, Never>? in
                guard !state.done else { return nil }
                state.done = true
                return state.continuation.take()
            }
            continuation?.resume(returning: result)
            return continuation != nil
        }
    }
}
