import Glibc
import Logging
import ServiceLifecycle
import Sockeye
import Synchronization

/// Tells a service manager (systemd with `Type=notify`, through `NOTIFY_SOCKET`) how the
/// daemon stands: carries out what `ServiceNotifications` and `ServiceWatchdog` decide.
///
/// A service of the daemon's group, given last to `Daemon.run` so that a graceful stop
/// reaches it first: STOPPING goes out as the stop begins. Give `reload(_:)` to
/// `reloadOnHangup(_:phases:)` for RELOADING and READY around each reload. A notification
/// that cannot be sent is logged once and never stops the daemon.
public final class ServiceManagerNotifier: Service, Sendable {
    let daemon: Daemon
    let logger: Logger
    let socket: NotifySocket
    let watchdogInterval: Duration?
    /// Whether every listener of the daemon is bound (the start is not done before).
    let listenersBound: @Sendable () -> Bool
    private let notifications = Mutex(ServiceNotifications())
    private let failureLogged = Atomic<Bool>(false)

    /// The notifier the environment asks for, or nil when no service manager listens
    /// (`NOTIFY_SOCKET` unset). A variable that is set but unusable is logged and ignored.
    public static func fromEnvironment(_ environment: [String: String], daemon: Daemon, logger: Logger,
                                       listenersBound: @escaping @Sendable () -> Bool) -> ServiceManagerNotifier? {
        if let problem = ServiceManagerEnvironment.ignoredAddress(environment) {
            logger.warning("the service manager's notification socket is ignored", metadata: ["reason": .string(problem)])
        }
        guard let settings = ServiceManagerEnvironment(environment: environment, pid: getpid()) else { return nil }
        for problem in settings.ignored {
            logger.warning("the service manager's watchdog is ignored", metadata: ["reason": .string(problem)])
        }
        do {
            return ServiceManagerNotifier(daemon: daemon, logger: logger, socket: try NotifySocket(address: settings.address),
                                          watchdogInterval: settings.watchdogInterval, listenersBound: listenersBound)
        } catch {
            logger.error("cannot open a socket to notify the service manager; sockeyed runs without notifying it",
                         metadata: ["error": .string(error.description)])
            return nil
        }
    }

    init(daemon: Daemon, logger: Logger, socket: NotifySocket, watchdogInterval: Duration?,
         listenersBound: @escaping @Sendable () -> Bool) {
        self.daemon = daemon
        self.logger = logger
        self.socket = socket
        self.watchdogInterval = watchdogInterval
        self.listenersBound = listenersBound
    }

    /// RELOADING=1 as a reload begins, READY=1 when it ended (for `reloadOnHangup`).
    public func reload(_ phase: ReloadPhase) {
        let status = self.status()
        let now = Self.monotonicMicroseconds()
        notifications.withLock {
            // Sent under the lock, so the manager hears RELOADING before READY.
            if let notification = $0.reload(phase, status: status, monotonicMicroseconds: now) { send(notification) }
        }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown { await self.notifyUntilCancelled() }
        } onGracefulShutdown: {
            self.notifications.withLock { if let notification = $0.stopping() { self.send(notification) } }
        }
    }

    /// READY once the start is done, then the watchdog's pings and STATUS lines.
    private func notifyUntilCancelled() async {
        let clock = ContinuousClock()
        let began = clock.now
        while !Task.isCancelled {
            let progress = startProgress()
            let status = self.status()
            let elapsed = clock.now - began
            let ready = notifications.withLock { state -> (notification: ServiceNotification, late: Bool)? in
                guard let ready = state.start(progress, status: status, elapsed: elapsed) else { return nil }
                send(ready.notification)
                return ready
            }
            if let ready {
                if ready.late {
                    logger.warning("the start did not finish in time; the service manager was told it is done",
                                   metadata: ["listeners_bound": .stringConvertible(progress.listenersBound),
                                              "apps_not_started": .string(progress.appsNotStarted.joined(separator: ", "))])
                }
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        var watchdog = watchdogInterval.map { ServiceWatchdog(interval: $0) }
        var probe: ServiceThreadProbe?
        while !Task.isCancelled {
            // The figures are read under the daemon's lock: a lock never released stops the pings too.
            let status = self.status()
            notifications.withLock { if let notification = $0.update(status) { send(notification) } }
            var next = ServiceWatchdog.calmLook
            if var current = watchdog {
                let decision = current.look(answered: probe?.answered ?? false, now: clock.now)
                watchdog = current
                if decision.ping { send(ServiceNotification(["WATCHDOG=1"])) }
                if decision.probe { probe = daemon.runtime.probe() }
                switch decision.log {
                case .stalled(let duration):
                    logger.error("watchdog: the transport's service thread has not answered; WATCHDOG=1 is withheld, so the service manager restarts sockeyed if it stays stuck",
                                 metadata: ["stalled_for": .string("\(duration)"), "watchdog": .string("\(current.interval)")])
                case .recovered(let duration):
                    logger.notice("watchdog: the transport's service thread answered again; WATCHDOG=1 resumes",
                                  metadata: ["stalled_for": .string("\(duration)")])
                case nil:
                    break
                }
                next = decision.next
            }
            try? await Task.sleep(for: next)
        }
    }

    /// Every listener bound, and the apps still idle (their client not started).
    private func startProgress() -> StartProgress {
        let notStarted = daemon.runners.filter { $0.status.snapshot.state == .idle }.map(\.settings.name)
        return StartProgress(listenersBound: listenersBound(), appsNotStarted: notStarted)
    }

    private func status() -> ServiceStatus {
        let apps = daemon.appSnapshots()
        return ServiceStatus(apps: apps.count, appsReady: apps.filter(\.ready).count,
                             connections: apps.reduce(0) { $0 + $1.liveConnections },
                             targetConnections: apps.reduce(0) { $0 + $1.targetConnections })
    }

    private func send(_ notification: ServiceNotification) {
        guard let failure = socket.send(notification.datagram) else { return }
        if !failureLogged.exchange(true, ordering: .relaxed) {
            logger.error("cannot notify the service manager; sockeyed runs on (this is logged once)",
                         metadata: ["error": .string(failure.description)])
        }
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
