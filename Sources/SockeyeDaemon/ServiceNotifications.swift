/// Where a SIGHUP's reload stands, as `reloadOnHangup` reports it.
public enum ReloadPhase: Sendable, Equatable {
    /// The signal arrived; the reload starts.
    case began
    /// The reload is over: the new configuration runs, or the running one stays.
    case ended(ReloadOutcome)
}

/// How a reload ended.
public enum ReloadOutcome: Sendable, Equatable {
    /// The file's configuration runs now.
    case applied
    /// The file has a mistake (or needs what cannot be had); the running configuration stays.
    case refused
    /// The daemon's settings came from the environment: there is no file to read again.
    case nothingToReload
}

/// What the service manager is told about the apps: a line short enough for
/// `systemctl status`, made of counts only (no name, token or URL).
public struct ServiceStatus: Sendable, Equatable {
    public var apps: Int
    public var appsReady: Int
    public var connections: Int
    public var targetConnections: Int

    public init(apps: Int, appsReady: Int, connections: Int, targetConnections: Int) {
        self.apps = apps
        self.appsReady = appsReady
        self.connections = connections
        self.targetConnections = targetConnections
    }

    /// The figures as `STATUS=` shows them.
    public var text: String {
        "apps ready \(appsReady)/\(apps), Socket Mode connections \(connections)/\(targetConnections)"
    }
}

/// How far the daemon's start has come: READY waits for every listener to be bound (so
/// `/readyz` and `/healthz` answer) and every app to have started its client.
public struct StartProgress: Sendable, Equatable {
    public var listenersBound: Bool
    /// The apps whose client has not started yet, by name.
    public var appsNotStarted: [String]

    public init(listenersBound: Bool, appsNotStarted: [String]) {
        self.listenersBound = listenersBound
        self.appsNotStarted = appsNotStarted
    }

    public var isComplete: Bool { listenersBound && appsNotStarted.isEmpty }
}

/// One notification datagram: `KEY=VALUE` lines (systemd's `sd_notify` protocol).
public struct ServiceNotification: Sendable, Equatable {
    public var fields: [String]

    /// The datagram's text.
    public var datagram: String { fields.joined(separator: "\n") }

    init(_ fields: [String]) { self.fields = fields }

    static func status(_ text: String) -> String {
        // One line: a name from the configuration file could hold a control character.
        "STATUS=" + String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? " " : Character($0) })
    }
}

/// When the daemon tells its service manager what (sans-IO): READY once the start is done,
/// RELOADING (with the monotonic time) when a SIGHUP's reload begins and READY when it
/// ended — applied or refused, the daemon runs either way — STOPPING when a graceful stop
/// begins, and STATUS lines when the apps' figures change. Each input returns the datagram
/// to send, or nil.
public struct ServiceNotifications: Sendable {
    public enum Phase: Sendable, Equatable {
        case starting, running, reloading, stopping
    }

    /// How long the start may take before READY goes out anyway (an app whose client
    /// never starts must not hold every other app's service hostage). The apps' first
    /// `auth.test` takes at most 10 s.
    public static let startDeadline: Duration = .seconds(30)

    public private(set) var phase = Phase.starting
    /// The figures last sent (a STATUS line goes out only when they change).
    private var lastFigures: ServiceStatus?

    public init() {}

    /// While starting: READY, with the status, once `progress` is complete, or once
    /// `elapsed` reaches `startDeadline` (the status then says what had not started, and
    /// `late` is true). Nil while the start goes on, and in any other phase.
    public mutating func start(_ progress: StartProgress, status: ServiceStatus, elapsed: Duration)
        -> (notification: ServiceNotification, late: Bool)? {
        guard phase == .starting else { return nil }
        let late = elapsed >= Self.startDeadline
        guard progress.isComplete || late else { return nil }
        phase = .running
        var text = status.text
        if !progress.isComplete {
            var waiting = progress.listenersBound ? [] : ["a listener"]
            waiting += progress.appsNotStarted.map { "app \($0)" }
            text += "; not started after \(Self.startDeadline): " + waiting.joined(separator: ", ")
        }
        lastFigures = status
        return (ServiceNotification(["READY=1", ServiceNotification.status(text)]), late)
    }

    /// RELOADING=1 and the monotonic clock in microseconds when a reload begins; READY=1
    /// when it ended. Nothing before READY was first sent (a SIGHUP during the start does
    /// not end the start early) or once the daemon is stopping.
    public mutating func reload(_ reload: ReloadPhase, status: ServiceStatus, monotonicMicroseconds: UInt64)
        -> ServiceNotification? {
        switch (reload, phase) {
        case (.began, .running), (.began, .reloading):
            phase = .reloading
            return ServiceNotification(["RELOADING=1", "MONOTONIC_USEC=\(monotonicMicroseconds)",
                                        ServiceNotification.status("reloading the configuration")])
        case (.ended(let outcome), .reloading):
            phase = .running
            let text: String
            switch outcome {
            case .applied: text = status.text
            case .refused: text = status.text + "; the last reload was refused, the previous configuration runs"
            case .nothingToReload: text = status.text + "; no configuration file to reload"
            }
            lastFigures = status
            return ServiceNotification(["READY=1", ServiceNotification.status(text)])
        default:
            return nil
        }
    }

    /// STOPPING=1, once, when a graceful stop begins (whatever the phase).
    public mutating func stopping() -> ServiceNotification? {
        guard phase != .stopping else { return nil }
        phase = .stopping
        return ServiceNotification(["STOPPING=1", ServiceNotification.status("stopping: draining the apps")])
    }

    /// A STATUS line when the figures changed, while running.
    public mutating func update(_ status: ServiceStatus) -> ServiceNotification? {
        guard phase == .running, status != lastFigures else { return nil }
        lastFigures = status
        return ServiceNotification([ServiceNotification.status(status.text)])
    }
}
