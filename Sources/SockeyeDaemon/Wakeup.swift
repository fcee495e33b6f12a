import SockeyeSinkKit
import Synchronization

/// A signal one loop waits on with a deadline: `wait(upTo:)` returns at the first of a
/// `signal()`, the deadline or the task's cancellation. A signal sent while nobody waits is
/// kept (once) for the next wait, so none is lost between two waits. One waiter at a time.
final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next wait when none is waiting.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits at most `seconds` (bounded: see `BoundedTime`) for a signal.
    func wait(upTo seconds: Double) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: BoundedTime.duration(seconds)) }
            group.addTask { await self.signalled() }
            _ = await group.next()
            group.cancelAll()
        }
    }

    /// Returns at a signal (or one kept), or when the task is cancelled.
    private func signalled() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    // Checked under the lock: a cancellation after this finds the waiter.
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
