/// When to send the service manager's watchdog its `WATCHDOG=1` (sans-IO).
///
/// A ping must prove that the daemon is doing its work, not merely that a timer fires. A
/// stuck daemon looks like one of these: the transport's service thread (every Socket Mode
/// connection's I/O, acks and timers) blocked or spinning; Swift's cooperative threads all
/// blocked, so no task runs; a lock of the daemon's state never released. The notifier
/// therefore looks from a task (it runs only if the cooperative pool does), reads the apps'
/// figures under the daemon's lock, and each ping also needs the answer to a probe queued
/// behind the service thread's work since the previous ping. While a probe is unanswered no
/// ping goes out, so the manager ends the process once the thread has been stuck for its
/// `WatchdogSec`; a thread that answers late (a burst of work) costs no restart as long as
/// it answers within that time.
public struct ServiceWatchdog: Sendable {
    /// The manager's interval (`WATCHDOG_USEC`).
    public let interval: Duration
    /// The longest wait between two looks while all is well: half the interval (what
    /// systemd advises), at most `ServiceWatchdog.calmLook`.
    public let calm: Duration
    /// The wait between looks while a probe is unanswered: a late answer is seen soon.
    public let anxious: Duration

    /// The longest wait between two looks (the STATUS line is refreshed as often).
    public static let calmLook: Duration = .seconds(5)

    /// When the probe being waited for was sent, if one was.
    private var probeSent: ContinuousClock.Instant?
    /// Whether the current stall has been logged.
    private var stallLogged = false

    public init(interval: Duration) {
        self.interval = interval
        calm = min(interval / 2, Self.calmLook)
        anxious = max(min(interval / 20, .milliseconds(250)), .milliseconds(5))
    }

    /// What one look decides.
    public struct Decision: Sendable, Equatable {
        /// Send `WATCHDOG=1`.
        public var ping: Bool
        /// Queue a new probe now (the previous one was answered, or there was none).
        public var probe: Bool
        /// Wait this long before the next look.
        public var next: Duration
        /// Something to log once: a stall that began, or one that ended.
        public var log: Log?
    }

    /// A stall worth an operator's attention.
    public enum Log: Sendable, Equatable {
        /// The service thread has not answered for this long: the pings stopped.
        case stalled(Duration)
        /// It answered again after this long: the pings resumed.
        case recovered(Duration)
    }

    /// The look at `now`; `answered` is whether the last probe sent was answered.
    public mutating func look(answered: Bool, now: ContinuousClock.Instant) -> Decision {
        guard let sent = probeSent else {
            probeSent = now
            return Decision(ping: true, probe: true, next: calm, log: nil)
        }
        if answered {
            let log: Log? = stallLogged ? .recovered(now - sent) : nil
            stallLogged = false
            probeSent = now
            return Decision(ping: true, probe: true, next: calm, log: log)
        }
        var log: Log?
        // A thread busy for a moment is normal: a stall is logged once it has lasted half
        // the interval (the manager's limit is then half an interval away).
        if !stallLogged, now - sent >= interval / 2 {
            stallLogged = true
            log = .stalled(now - sent)
        }
        return Decision(ping: false, probe: false, next: anxious, log: log)
    }
}
