import Logging
import ServiceLifecycle
import SockeyeCore
import SockeyeTransport

/// A Slack Socket Mode client for one app.
///
/// ```swift
/// let client = try SocketModeClient(appToken: token, logger: logger)
/// for try await event in client.events {
///     print(event.type, event.eventType ?? "", event.payloadText)
///     try await event.ack()
/// }
/// ```
///
/// Making it does no I/O: it connects on the first of `run()` (it is a swift-service-lifecycle
/// `Service`) or the first iteration of `events`, `eventBatches` or `states`, once whichever
/// comes first. Then it keeps a pool of WebSocket connections (two by default) opened through
/// `apps.connections.open`, replaced before Slack recycles them, re-established with backoff
/// after any failure. Redeliveries of an event already delivered are dropped (and acked);
/// envelopes the application does not answer in time are acked by the ack guard. `events`
/// ends when `stop()` is called (or `run()` is cancelled or shut down gracefully), and throws
/// `SocketModeError.terminated` when the client gave up for good (a fatal token error or
/// `link_disabled`).
public final class SocketModeClient: Sendable {
    /// The events, in arrival order. One consumer: iterate it once (or `eventBatches`).
    public let events: SocketModeEvents
    /// The same events in the batches they arrived in, for hosts that commit a batch at
    /// once before acking it. Iterate this or `events`, not both.
    public var eventBatches: SocketModeEventBatches { SocketModeEventBatches(batches: events.batches, lifecycle: lifecycle) }
    private let lifecycle: ClientLifecycle
    private var client: AppClient { lifecycle.client }
    private var hub: StateHub { lifecycle.hub }

    /// The logger a client gets when none is given: it writes nothing.
    public static let silentLogger = Logger(label: "sockeye", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Checks the token and the configuration; connects nothing (see the type's
    /// documentation). Throws at once for a token that is not an app-level (`xapp-`) token,
    /// a malformed URL, a bad proxy setting or an unreadable CA file. `logger` gets the
    /// client's notices (see `notices`) at levels from `debug` to `warning`; no token or
    /// password ever reaches it.
    public init(appToken: String, options: SocketModeOptions = SocketModeOptions(),
                logger: Logger = SocketModeClient.silentLogger) throws(SocketModeError) {
        let kind = AppTokenKind(appToken)
        if let problem = kind.socketModeProblem { throw .invalidToken(kind, problem) }
        var configuration = ClientConfiguration(appToken: appToken)
        configuration.apiBaseURL = options.apiBaseURL
        configuration.pool = options.pool
        configuration.pool.poolSize = options.poolSize
        configuration.pool.maxPoolSize = options.maxPoolSize
        configuration.pool.ackMode = options.ackMode
        configuration.pool.ackGuard = options.ackGuard
        // With it, the guard answers only events the application took out of `events` (or
        // `eventBatches`): one still waiting in the stream is never acked.
        configuration.pool.ackGuardAwaitsTake = options.ackGuardWaitsForConsumer
        configuration.maxQueuedEvents = options.maxQueuedEvents
        configuration.pool.dedupWindow = options.dedupWindow
        configuration.caFile = options.caFile
        configuration.maxMessageSize = options.maxMessageSize
        configuration.webAPITimeout = options.webAPITimeout
        let environment = options.environment ?? ProcessEnvironment.snapshot()
        do {
            if let proxyURL = options.proxyURL {
                // Parsed as a proxy variable is: http:// only, so a password never goes to a
                // proxy in clear (an https:// proxy would need TLS to the proxy itself).
                let proxy = try ProxySettings.proxyURL(proxyURL)
                configuration.proxy = ProxySettings(httpsProxy: proxy, httpProxy: proxy, noProxy: options.noProxy)
            }
        } catch {
            let shown = URLRedaction.maskingPassword(options.proxyURL ?? "")
            throw .invalidConfiguration(.invalidURL("proxy URL '\(shown)': \(error.description)"))
        }
        let (stream, continuation) = AsyncThrowingStream<[SocketModeEvent?], any Error>.makeStream()
        let collector = BatchCollector()
        let hub = StateHub()
        let ackMode = options.ackMode
        // The envelope callback is made before the client it needs to reach.
        let clientBox = Locked<AppClient?>(nil)
        let client: AppClient
        do throws(TransportError) {
            let runtime: TransportRuntime
            if let given = options.runtime { runtime = given.transport } else { runtime = try SharedRuntime.get() }
            client = try AppClient(
                runtime: runtime, configuration: configuration,
                callbacks: ClientCallbacks(
                    envelope: { received in
                        guard let client = clientBox.snapshot else { return }
                        collector.pending.append(SocketModeEvent(received, client: client, ackMode: ackMode))
                    },
                    state: { state in
                        Self.handOver(collector, to: continuation)
                        hub.publish(state)
                        switch state {
                        case .failed(let failure): continuation.finish(throwing: SocketModeError.terminated(failure))
                        case .stopped: continuation.finish()
                        default: break
                        }
                    },
                    notice: { notice in hub.publish(SocketModeNotice(notice)) },
                    batchEnd: { Self.handOver(collector, to: continuation) }),
                environment: environment)
        } catch {
            throw .invalidConfiguration(error)
        }
        clientBox.withValue { $0 = client }
        lifecycle = ClientLifecycle(client: client, hub: hub, continuation: continuation, logger: logger, pool: configuration.pool)
        events = SocketModeEvents(batches: stream, lifecycle: lifecycle)
    }

    /// Yields the events collected on the service thread as one batch.
    private static func handOver(_ collector: BatchCollector,
                                 to continuation: AsyncThrowingStream<[SocketModeEvent?], any Error>.Continuation) {
        guard !collector.pending.isEmpty else { return }
        let batch = collector.pending
        collector.pending = []
        if case .terminated = continuation.yield(batch) {
            // Nobody will see them (the stream ended): never ack them unseen, so Slack
            // redelivers them to a client that is still listening.
            for event in batch { event?.declineUndelivered() }
        }
    }

    /// The pool's states from now on (idle, connecting, running, stopping, stopped, failed),
    /// each new subscriber starting with the current one. Iterating it connects the client.
    public var states: SocketModeStates { SocketModeStates(states: hub.subscribeStates(), lifecycle: lifecycle) }

    /// Notices for logs from now on: refreshes, losses with their reasons, backoff, transport
    /// errors by layer (DNS, TCP, proxy, TLS, HTTP, upgrade), duplicates dropped, ack-guard
    /// acks. The client's `Logger` gets each of them too. Subscribing connects nothing.
    public var notices: AsyncStream<SocketModeNotice> { hub.subscribeNotices() }

    /// Counters: received, delivered, acked, nacked, de-duplicated, reconnects, errors …
    public var stats: SocketModeStats { client.stats }

    /// Holds at most `count` connections from now on (nil: back to the configured pool size):
    /// connections over a lower limit close at once, with 1000, and a lost one is replaced
    /// only up to the limit. For hosts that share an app's connections among processes (a
    /// cluster's leases). Given before the client connects, it applies from the start.
    ///
    /// `spare` more sockets may be open while Slack recycles a connection, so its
    /// replacement opens before it closes; with none, the recycled one closes first.
    public func limitConnections(to count: Int?, spare: Int = 0) {
        client.limitConnections(to: count.map { ConnectionLimit(connections: $0, spare: spare) })
    }

    /// Stops gracefully: no new envelopes are taken, those delivered can still be answered
    /// until the drain timeout, queued acks are flushed, and every connection closes with
    /// 1000. Returns once the client has stopped; `events` then ends. A client that never
    /// connected stops at once.
    public func stop() async {
        lifecycle.requestStop()
        _ = await hub.waitForEnd()
    }
}

extension SocketModeClient: Service {
    /// Connects (unless iterating the events already did) and runs until the task is
    /// cancelled or its `ServiceGroup` shuts down gracefully; then stops as `stop()` does,
    /// with the drain, and returns once the client stopped. Also returns when `stop()` is
    /// called elsewhere. Throws `SocketModeError.terminated` when the client gave up for good
    /// (a fatal token error or `link_disabled`).
    public func run() async throws {
        let lifecycle = self.lifecycle
        lifecycle.connect()
        let end = await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await lifecycle.hub.waitForEnd()
            } onCancel: {
                lifecycle.requestStop()
            }
        } onGracefulShutdown: {
            lifecycle.requestStop()
        }
        if case .failed(let failure)? = end { throw SocketModeError.terminated(failure) }
    }
}
