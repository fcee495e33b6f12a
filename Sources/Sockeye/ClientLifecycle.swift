import Logging
import SockeyeCore
import SockeyeTransport
import Synchronization

/// When a `SocketModeClient` connects and stops: once, on the first of `run()` or the first
/// iteration of its events or states; a stop before that ends the client without any I/O.
/// Shared by the client and its sequences (they hold this, not the client, so an iterator
/// does not keep the client alive).
final class ClientLifecycle: Sendable {
    private enum Phase {
        case idle, started, stopping, stoppedUnstarted
    }

    let client: AppClient
    let hub: StateHub
    private let continuation: AsyncThrowingStream<[SocketModeEvent?], any Error>.Continuation
    private let logger: Logger
    /// How long a stop may take before waiters give up (the drain, the closes, and slack
    /// for a loaded machine); only reached when the runtime shut down under the client.
    private let stopBound: Duration
    private let phase = Mutex(Phase.idle)

    /// Notices waiting for the log at most: a burst beyond it drops its oldest lines
    /// rather than holding memory.
    static let logBacklog = 4096

    init(client: AppClient, hub: StateHub, continuation: AsyncThrowingStream<[SocketModeEvent?], any Error>.Continuation,
         logger: Logger, pool: PoolConfiguration) {
        self.client = client
        self.hub = hub
        self.continuation = continuation
        self.logger = logger
        stopBound = max(.zero, pool.drainTimeout) + max(.zero, pool.closeTimeout) + .seconds(30)
    }

    /// Starts connecting, the first time only (and never after a stop).
    func connect() {
        let first = phase.withLock { phase -> Bool in
            guard phase == .idle else { return false }
            phase = .started
            return true
        }
        guard first else { return }
        // Subscribed before the start: every notice of this client reaches the log.
        let notices = hub.subscribeNotices(limit: Self.logBacklog)
        let logger = self.logger
        Task { for await notice in notices { notice.log(to: logger) } }
        logger.debug("connecting")
        client.start()
    }

    /// Asks the client to stop with a drain. Before it ever connected it ends at once:
    /// `stopped`, and the events end.
    func requestStop() {
        let before = phase.withLock { phase -> Phase in
            let before = phase
            switch phase {
            case .idle: phase = .stoppedUnstarted
            case .started: phase = .stopping
            case .stopping, .stoppedUnstarted: break
            }
            return before
        }
        switch before {
        case .idle:
            hub.publish(.stopped)
            continuation.finish()
        case .started:
            logger.debug("stopping")
            client.stop(drain: true)
            let (hub, bound) = (self.hub, stopBound)
            // Unstructured, so a cancelled caller still gets its bound.
            Task {
                try? await Task.sleep(for: bound)
                hub.giveUp()
            }
        case .stopping, .stoppedUnstarted:
            break
        }
    }
}
