import CLibWebSockets
import CSockeyeWakeTimer
import Foundation

/// The service thread's one wake-up: a timerfd that lws polls as a raw file descriptor,
/// armed for the earlier of the next housekeeping tick (deadlines, retries, pings, refresh
/// schedules) and, in open-loop rate mode, the next scheduled send.
///
/// Not an lws `sul`: lws 4.1 turns the time to the next `sul` into a poll timeout in whole
/// milliseconds, rounding down, so once a `sul` is less than 1 ms away every poll has
/// timeout 0 until it is due. With sends every millisecond (1 000/s) that spin kept the
/// thread ~100 % busy. The timerfd expires at its nanosecond deadline and poll sleeps
/// until then (or until a socket needs service).
extension SimServer {
    /// Shortest gap between two rate-mode wake-ups: above ~10 000 envelopes/s the sends
    /// of one wake-up are batched (at most this late) instead of waking per envelope.
    static let minSendGap = 100e-6

    /// Creates the timerfd and hands it to lws (service thread, after the context exists).
    /// Returns false when either step fails; lws closes the descriptor if adoption fails.
    func startTimer(_ ctx: OpaquePointer) -> Bool {
        let fd = sockeye_wake_timer_create()
        guard fd >= 0, let vhost = lws_get_vhost_by_name(ctx, "default") else { return false }
        var desc = lws_sock_file_fd_type()
        desc.filefd = fd
        guard lws_adopt_descriptor_vhost(vhost, LWS_ADOPT_RAW_FILE_DESC, desc, "sockeye-sim", nil) != nil else { return false }
        timerFD = fd
        let now = Self.monotonic()
        nextHousekeeping = now + housekeepingInterval
        armTimer(now: now)
        return true
    }

    /// The timerfd polled readable (service thread): run what is due and re-arm.
    func timerFired() {
        _ = sockeye_wake_timer_drain(timerFD)
        armedAt = .infinity
        let now = Self.monotonic()
        if now >= nextHousekeeping {
            nextHousekeeping = now + housekeepingInterval
            tick(now: now)
        } else {
            // Only a scheduled send is due: the load generator alone, no housekeeping pass.
            core.tickLoad(now: now)
            pump()
        }
        armTimer(now: Self.monotonic())
    }

    /// Arms the timerfd for the next thing due, unless it is already armed for that time
    /// (service thread; called after every wake-up and every batch of commands, since a
    /// command may start a load run).
    func armTimer(now: Double) {
        guard timerFD >= 0 else { return }
        var next = nextHousekeeping
        if let due = core.nextLoadDue { next = min(next, max(due, now + Self.minSendGap)) }
        guard next != armedAt else { return }
        armedAt = next
        _ = sockeye_wake_timer_arm(timerFD, next)
    }

    /// The housekeeping pass (service thread).
    func tick(now: Double) {
        core.tick(now: now)
        if core.load != nil, core.loadFinished { core.markLoadFinished(now: now, cpuNow: Self.threadCPU()) }
        pump()
    }
}
