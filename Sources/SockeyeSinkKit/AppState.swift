import SockeyeCore

/// Where one app stands, as the status page, `status.json` and `/readyz` report it.
///
/// The questions the daemon asks of a state (may a reload keep this app, is it ready, is it
/// healthy) are answered here from the case, never by reading `description` back: the text
/// is for operators and may be reworded, the cases are what the code relies on.
/// `description` is the exact text the status page and `status.json` show.
public enum AppState: Sendable, Hashable, CustomStringConvertible {
    /// Made, not started yet.
    case idle
    /// Socket Mode: started, no connection has reached `hello` yet (or all were lost).
    case connecting
    /// Socket Mode: `live` connections are up out of the `target` the pool keeps.
    case running(live: Int, target: Int)
    /// HTTP delivery only (no Socket Mode client): the app takes the requests the public
    /// listener receives on `eventsPath`.
    case runningHTTP(eventsPath: String)
    /// Socket Mode: stopping; connections stay open while held envelopes can still be acked.
    case stopping
    /// Socket Mode: every connection is closed after a stop.
    case stopped
    /// Socket Mode: the pool gave up (a fatal `apps.connections.open` error or
    /// `link_disabled`); connections still open keep delivering until Slack closes them.
    case failed(PoolFailure)
    /// The app's run ended unexpectedly (`reason`); the supervisor starts a new instance
    /// after `delay`.
    case restarting(after: Duration, reason: String)
    /// Left alone until a reload: its client ended for good (a token Slack refuses) or a
    /// new instance could not be made; `reason` says why.
    case disabled(reason: String)

    /// The state for a Socket Mode pool's state.
    public init(_ pool: PoolState) {
        switch pool {
        case .idle: self = .idle
        case .connecting: self = .connecting
        case .running(let live, let target): self = .running(live: live, target: target)
        case .stopping: self = .stopping
        case .stopped: self = .stopped
        case .failed(let failure): self = .failed(failure)
        }
    }

    /// The text operators see (the status page, `status.json`): a short name, with the
    /// detail that explains it.
    public var description: String {
        switch self {
        case .idle: "idle"
        case .connecting: "connecting"
        case .running(let live, let target): live < target ? "running (\(live) of \(target) connections)" : "running"
        case .runningHTTP(let path): "running (HTTP requests on \(path))"
        case .stopping: "stopping"
        case .stopped: "stopped"
        case .failed(.linkDisabled): "failed: link_disabled (Socket Mode is off in the app's settings)"
        case .failed(.fatalOpenError(let code)): "failed: \(code)"
        case .restarting(let delay, let reason): "restarting in \(delay) (\(reason))"
        case .disabled(let reason): "disabled: \(reason)"
        }
    }

    /// Disabled until a reload: a reload restarts such an app even when its settings did
    /// not change.
    public var isDisabled: Bool {
        if case .disabled = self { true } else { false }
    }

    /// Between two instances: the old one ended, the new one is not made yet.
    public var isRestarting: Bool {
        if case .restarting = self { true } else { false }
    }

    /// The pool gave up on opening connections (see `failed`).
    public var isFailed: Bool {
        if case .failed = self { true } else { false }
    }

    /// Whether the app can take events now (`/readyz`): an HTTP-only app once it runs, a
    /// Socket Mode app while it has a live connection — even a failed pool's connections
    /// still deliver. Never while disabled or restarting.
    ///
    /// `liveConnections` is the client's count at the moment of asking (zero for an
    /// HTTP-only app): it changes between state changes, so it is not taken from `running`.
    public func isReady(liveConnections: Int) -> Bool {
        switch self {
        case .disabled, .restarting: false
        case .runningHTTP: true
        case .idle, .connecting, .running, .stopping, .stopped, .failed: liveConnections > 0
        }
    }

    /// Whether the status page marks the app as fine: ready (see `isReady`) and its pool has
    /// not given up — a failed pool's last connections are shown in red, they will not be
    /// replaced.
    public func isHealthy(liveConnections: Int) -> Bool {
        !isFailed && isReady(liveConnections: liveConnections)
    }
}
