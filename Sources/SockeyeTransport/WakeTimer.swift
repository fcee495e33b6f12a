import CLibWebSockets
import CSockeyeWakeTimer
import Glibc

/// A one-shot wake-up of the runtime's service thread at a microsecond-exact time: a
/// timerfd that lws polls as a raw file descriptor (its expiry arrives as
/// `LWS_CALLBACK_RAW_RX_FILE`, the only raw file the transport adopts).
///
/// Not an lws `sul` (`ServiceTimer`): lws 4.1 turns the time to the next `sul` into a poll
/// timeout in whole milliseconds, rounding down, so for the last millisecond before a `sul`
/// is due the thread polls with timeout 0, a spin. Fine for rare deadlines; a timer armed
/// after every batch of events (the ack coalescing window) would spin a millisecond each
/// time. Service thread only; lws closes the descriptor with the context.
final class WakeTimer {
    private let fd: Int32
    /// Whether it is armed and has not fired.
    private(set) var isArmed = false

    /// Creates the timerfd and hands it to lws' default vhost; nil if either fails (the
    /// caller then does without). lws closes the descriptor if adoption fails.
    init?(context: OpaquePointer, protocolName: UnsafePointer<CChar>) {
        let fd = sockeye_wake_timer_create()
        guard fd >= 0 else { return nil }
        guard let vhost = lws_get_vhost_by_name(context, "default") else {
            close(fd)
            return nil
        }
        var descriptor = lws_sock_file_fd_type()
        descriptor.filefd = fd
        guard lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, descriptor, protocolName, nil) != nil else {
            return nil
        }
        self.fd = fd
    }

    /// Arms the timer to fire `delay` from now (replacing an earlier time). Returns false
    /// if the system refused (the timer then stays as it was).
    @discardableResult
    func arm(after delay: Duration) -> Bool {
        let (seconds, attoseconds) = delay.components
        let due = Double(MonotonicClock.now()) / 1e9 + Double(seconds) + Double(attoseconds) / 1e18
        guard sockeye_wake_timer_arm(fd, due) == 0 else { return false }
        isArmed = true
        return true
    }

    /// The descriptor polled readable: consumes the expiry. Returns whether the timer was
    /// armed (a stale expiry after a re-arm is not a firing).
    func fired() -> Bool {
        _ = sockeye_wake_timer_drain(fd)
        defer { isArmed = false }
        return isArmed
    }
}
