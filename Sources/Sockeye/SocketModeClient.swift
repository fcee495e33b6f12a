import SockeyeCore
import SockeyeTransport

/// A Slack Socket Mode client for one app.
///
/// ```swift
/// let client = try SocketModeClient(appToken: token)
/// for try await event in client.events {
///     print(event.type, event.eventType ?? "", event.payloadText)
///     try await event.ack()
/// }
/// ```
///
/// It connects at once: a pool of WebSocket connections (two by default) opened through
/// `apps.connections.open`, replaced before Slack recycles them, re-established with backoff
/// after any failure. Redeliveries of an event already delivered are dropped (and acked);
/// envelopes the application does not answer in time are acked by the ack guard. `events`
/// ends when `stop()` is called, and throws `SocketModeError.terminated` when the client gave
/// up for good (a fatal token error or `link_disabled`).
public final class SocketModeClient: Sendable {
    /// The events, in arrival order. One consumer: iterate it once (or `eventBatches`).
    public let events: SocketModeEvents
    /// The same events in the batches they arrived in, for hosts that commit a batch at
    /// once before acking it. Iterate this or `events`, not both.
    public var eventBatches: SocketModeEventBatches { SocketModeEventBatches(batches: events.batches) }
    private let client: AppClient
    private let hub: StateHub

    /// Checks the token and the configuration, then starts connecting. Throws at once, before
    /// any connection, for a token that is not an app-level (`xapp-`) token, a malformed
    /// URL, a bad proxy setting or an unreadable CA file.
    public init(appToken: String, options: SocketModeOptions = SocketModeOptions()) throws(SocketModeError) {
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
            let shown = EndpointURL.redacting(options.proxyURL ?? "")
            throw .invalidConfiguration(.invalidURL("proxy URL '\(shown)': \(error.description)"))
        }
        let (stream, continuation) = AsyncThrowingStream<[SocketModeEvent?], any Error>.makeStream()
        let collector = BatchCollector()
        let hub = StateHub()
        let ackMode = options.ackMode
        // The envelope callback is made before the client it needs to reach.
        let clientBox = Locked<AppClient?>(nil)
        do throws(TransportError) {
            let runtime: TransportRuntime
            if let given = options.runtime { runtime = given } else { runtime = try SharedRuntime.get() }
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
                    notice: { notice in hub.publish(notice) },
                    batchEnd: { Self.handOver(collector, to: continuation) }),
                environment: environment)
        } catch {
            throw .invalidConfiguration(error)
        }
        let made = client
        clientBox.withValue { $0 = made }
        events = SocketModeEvents(batches: stream)
        self.hub = hub
        client.start()
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

    /// The pool's states from now on (connecting, running, stopping, stopped, failed), each
    /// new subscriber starting with the current one.
    public var states: AsyncStream<PoolState> { hub.subscribeStates() }

    /// Notices for logs: refreshes, losses with their reasons, backoff, transport errors by
    /// layer (DNS, TCP, proxy, TLS, HTTP, upgrade), duplicates dropped, ack-guard acks.
    public var notices: AsyncStream<ClientNotice> { hub.subscribeNotices() }

    /// Counters: received, delivered, acked, nacked, de-duplicated, reconnects, errors …
    public var stats: ClientStats { client.stats }

    /// Stops gracefully: no new envelopes are taken, those delivered can still be answered
    /// until the drain timeout, queued acks are flushed, and every connection closes with
    /// 1000. Returns once the client has stopped; `events` then ends.
    public func stop() async {
        let stopped = hub.subscribeStates()
        client.stop(drain: true)
        for await state in stopped {
            if state == .stopped { break }
            if case .failed = state { break }
        }
    }
}
