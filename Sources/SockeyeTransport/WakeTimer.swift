import CLibWebSockets
import CSockeyeWakeTimer
import Glibc

/// The runtime's one timer in the kernel: a timerfd that lws polls as a raw file descriptor
/// (its expiry arrives as `LWS_CALLBACK_RAW_RX_FILE`, the only raw file the transport
/// adopts), armed for the earliest `ServiceTimer` before the service thread waits.
///
/// Not an lws `sul`: lws 4.1 turns the time to the next `sul` into a poll timeout in whole
/// milliseconds, rounding down, so for the last millisecond before a `sul` is due the
/// thread polls with timeout 0, a spin; and on its libev loop, a `sul` set while an earlier
/// one is pending is not seen until that one fires. A timerfd wakes the wait at its
/// nanosecond expiry. Service thread only; lws closes the descriptor with the context.
final class WakeTimer {
    private let fd: Int32
    /// The expiry it is armed for (`MonotonicClock` nanoseconds), nil when disarmed.
    private(set) var armedAt: UInt64?

    /// Creates the timerfd and hands it to lws' default vhost; nil if either fails. lws
    /// closes the descriptor if adoption fails.
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

    /// Arms it for `due` (`MonotonicClock` nanoseconds; a time past expires at once), or
    /// disarms it for nil. Does nothing if it is already so.
    func arm(at due: UInt64?) {
        guard due != armedAt else { return }
        let result = due.map { sockeye_wake_timer_arm(fd, Double($0) / 1e9) } ?? sockeye_wake_timer_disarm(fd)
        armedAt = result == 0 ? due : nil
    }

    /// The descriptor polled readable: consumes the expiry; it is disarmed now.
    func expired() {
        _ = sockeye_wake_timer_drain(fd)
        armedAt = nil
    }
}
