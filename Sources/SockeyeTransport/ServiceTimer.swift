/// A one-shot timer on the runtime's service thread: the pool's deadlines, a Web API call's
/// whole exchange, the ack coalescing window. Service thread only.
///
/// The runtime keeps every timer in one `TimerQueue` and wakes for the earliest on a
/// timerfd (`WakeTimer`), not on lws' own timers: lws 4.1 rounds the time to its next
/// timer down to whole milliseconds, so it spins through the last millisecond polling with
/// timeout 0, and on its libev loop a timer set while an earlier one is pending is not seen
/// until that one fires. The queue holds a scheduled timer (strongly: a weak reference's
/// side table hides from LeakSanitizer behind a tagged pointer), so an owner cancels its
/// timer before it goes, as every owner does when it ends and in its `deinit`.
final class ServiceTimer: QueuedTimer {
    private unowned let runtime: TransportRuntime
    private var action: (() -> Void)?
    /// The queue's bookkeeping: when this timer is due while scheduled, and a counter that
    /// tells its current heap entry from stale ones.
    var queuedDue: UInt64?
    var generation: UInt64 = 0

    init(runtime: TransportRuntime) {
        self.runtime = runtime
    }

    /// Whether the timer is set and has not fired.
    var isScheduled: Bool { queuedDue != nil }

    /// Calls `action` once `delay` has passed (replacing an earlier schedule).
    func schedule(after delay: Duration, _ action: @escaping () -> Void) {
        schedule(at: MonotonicClock.now() &+ ServiceTimer.nanoseconds(delay), action)
    }

    /// Calls `action` at `due` (`MonotonicClock` nanoseconds; a time past fires at the next
    /// wake-up), replacing an earlier schedule.
    func schedule(at due: UInt64, _ action: @escaping () -> Void) {
        self.action = action
        runtime.timers.schedule(self, at: due)
    }

    /// Takes the timer out; its action will not run. A timer not scheduled is left alone
    /// (an owner's `deinit` on another thread touches nothing the service thread uses).
    func cancel() {
        action = nil
        guard queuedDue != nil else { return }
        runtime.timers.cancel(self)
    }

    /// Runs the action of a timer the queue found due.
    func fire() {
        let due = action
        action = nil
        due?()
    }

    /// `delay` in nanoseconds, at least 1 and at most a day: the callers' settings are
    /// range-checked, this only keeps the conversion from trapping whatever it is given.
    static func nanoseconds(_ delay: Duration) -> UInt64 {
        let (seconds, attoseconds) = delay.components
        guard seconds >= 0 else { return 1 }
        guard seconds < 86_400 else { return 86_400 * 1_000_000_000 }
        return max(1, UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000))
    }
}
