import CLibWebSockets

/// A one-shot timer on the runtime's service thread (an lws sorted-usec-list entry), for the
/// deadlines of exchanges the pool does not time itself (a Web API call's whole exchange).
/// Service thread only.
///
/// lws keeps a pointer to the timer's memory while it is scheduled, so the timer is taken
/// out of lws' list when it fires, on `cancel()` and in `deinit`: lws never reaches freed
/// memory, even when the owner goes away first.
final class ServiceTimer {
    private unowned let runtime: TransportRuntime
    private let timer: UnsafeMutablePointer<sockeye_timer>
    private var action: (() -> Void)?

    init(runtime: TransportRuntime) {
        self.runtime = runtime
        timer = .allocate(capacity: 1)
        timer.initialize(to: sockeye_timer())
        timer.pointee.user = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        cancel()
        timer.deallocate()
    }

    /// Whether the timer is set and has not fired.
    var isScheduled: Bool { action != nil }

    /// Calls `action` once `delay` has passed (replacing an earlier schedule). Without a
    /// context (the runtime is shutting down) nothing is scheduled: nothing would be waited for.
    func schedule(after delay: Duration, _ action: @escaping () -> Void) {
        guard let context = runtime.context else { return }
        self.action = action
        lws_sul_schedule(context, 0, &timer.pointee.sul, serviceTimerFired, ServiceTimer.microseconds(delay))
    }

    /// Takes the timer out of lws' list; its action will not run.
    func cancel() {
        guard action != nil else { return }
        action = nil
        if let context = runtime.context {
            lws_sul_schedule(context, 0, &timer.pointee.sul, serviceTimerFired, LWS_SET_TIMER_USEC_CANCEL)
        }
    }

    fileprivate func fired() {
        // lws has already unlinked the entry; the action may release this timer's owner.
        let due = action
        action = nil
        due?()
    }

    /// `delay` in whole microseconds, at least 1 (0 would mean "now" to some lws calls) and
    /// at most a day: the callers' settings are range-checked, this only keeps the
    /// conversion from trapping whatever it is given.
    static func microseconds(_ delay: Duration) -> Int64 {
        let (seconds, attoseconds) = delay.components
        guard seconds >= 0 else { return 1 }
        guard seconds < 86_400 else { return 86_400 * 1_000_000 }
        return max(1, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
    }
}

/// The timers' C callback: finds the `ServiceTimer` through the entry's user pointer.
private func serviceTimerFired(_ sul: UnsafeMutablePointer<lws_sorted_usec_list_t>?) {
    guard let sul, let user = sockeye_timer_from_sul(sul)?.pointee.user else { return }
    let timer = Unmanaged<ServiceTimer>.fromOpaque(user).takeUnretainedValue()
    // The action may drop the last reference to the timer's owner, and with it the timer.
    withExtendedLifetime(timer) { timer.fired() }
}
