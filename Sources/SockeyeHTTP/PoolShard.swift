import DequeModule
import NIOCore
import NIOPosix
import SockeyeCore
import Synchronization

/// One event loop's share of an `HTTPConnectionPool`: its connections, its queue, its
/// state, all on that loop.
final class PoolShard: Sendable {
    typealias Completion = HTTPConnectionPool.Completion
    typealias Failure = HTTPConnectionPool.Failure

    let host: String
    let port: Int
    let maxConnections: Int
    let tls: PoolTLS?
    let connectTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let maxResponseBytes: Int
    let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<ShardState>

    init(host: String, port: Int, maxConnections: Int, tls: PoolTLS?, connectTimeout: TimeAmount, idleTimeout: TimeAmount,
         maxResponseBytes: Int, eventLoop: any EventLoop) {
        self.host = host
        self.port = port
        self.maxConnections = max(1, maxConnections)
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.maxResponseBytes = maxResponseBytes
        self.eventLoop = eventLoop
        state = NIOLoopBoundBox.makeBoxSendingValue(ShardState(), as: ShardState.self, eventLoop: eventLoop)
    }

    func execute(_ request: HTTPRequestBytes, timeout: TimeAmount, completion: @escaping Completion) {
        let deadline = NIODeadline.now() + timeout
        if eventLoop.inEventLoop {
            enqueue(PendingExchange(request: request, deadline: deadline, completion: completion))
        } else {
            eventLoop.execute { self.enqueue(PendingExchange(request: request, deadline: deadline, completion: completion)) }
        }
    }

    func shutdown() async {
        let closed: EventLoopFuture<Void> = eventLoop.submit {
            let state = self.state.value
            state.shutDown = true
            let waiting = state.waiting
            state.waiting.removeAll()
            for exchange in waiting { exchange.completion(.failure(.shutDown)) }
            for connection in state.idle { connection.close() }
            state.idle.removeAll()
            for connection in state.busy.values { connection.close() }
        }
        try? await closed.get()
    }

    // MARK: - On the event loop

    private func enqueue(_ exchange: PendingExchange) {
        let state = self.state.value
        guard !state.shutDown else { return exchange.completion(.failure(.shutDown)) }
        state.waiting.append(exchange)
        if !state.queueTimerRunning { scheduleQueueTimeout() }
        dispatch()
    }

    /// Gives waiting requests to idle connections, opening new ones up to the limit.
    private func dispatch() {
        let state = self.state.value
        while !state.waiting.isEmpty {
            if let connection = state.idle.popLast() {
                let exchange = state.waiting.removeFirst()
                send(exchange, on: connection)
            } else if state.total < maxConnections {
                let exchange = state.waiting.removeFirst()
                connect(for: exchange)
            } else {
                return
            }
        }
    }

    private func send(_ exchange: PendingExchange, on connection: PoolConnection) {
        let state = self.state.value
        guard exchange.deadline > .now() else {
            state.idle.append(connection)
            return exchange.completion(.failure(.timeout))
        }
        state.busy[ObjectIdentifier(connection)] = connection
        connection.start(exchange) { [self] outcome in
            finished(exchange, on: connection, outcome)
        }
    }

    private func connect(for exchange: PendingExchange) {
        let state = self.state.value
        state.connecting += 1
        let bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(connectTimeout)
        let maxResponseBytes = self.maxResponseBytes
        let idleTimeout = self.idleTimeout
        bootstrap.connect(host: host, port: port).assumeIsolated().whenComplete { [self] result in
            let state = self.state.value
            state.connecting -= 1
            switch result {
            case .success(let channel):
                let connection = PoolConnection(channel: channel, maxResponseBytes: maxResponseBytes, idleTimeout: idleTimeout) {
                    [self] connection in self.idleClosed(connection)
                }
                do {
                    // TLS first: the connection's handler sees plain bytes either way (a
                    // request written before the handshake ends waits in the TLS handler).
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(tls.handler(host: host))
                    }
                    try channel.pipeline.syncOperations.addHandler(connection.handler)
                } catch {
                    channel.close(promise: nil)
                    exchange.completion(.failure(.connectFailed("\(error)")))
                    return dispatch()
                }
                state.open += 1
                if state.shutDown {
                    connection.close()
                    return exchange.completion(.failure(.shutDown))
                }
                send(exchange, on: connection)
            case .failure(let error):
                exchange.completion(.failure(.connectFailed(Self.describe(error))))
                dispatch()
            }
        }
    }

    private func finished(_ exchange: PendingExchange, on connection: PoolConnection, _ outcome: PoolConnection.Outcome) {
        let state = self.state.value
        state.busy.removeValue(forKey: ObjectIdentifier(connection))
        switch outcome {
        case .answered(let response, let reusable):
            if reusable && !state.shutDown {
                state.idle.append(connection)
            } else {
                connection.close()
                state.open -= 1
            }
            exchange.completion(.success(response))
        case .failed(let failure, let neverSent):
            connection.close()
            state.open -= 1
            // Only a request that provably never reached the server goes out again (a POST
            // sent twice is an event delivered twice); each resend used up a stale idle
            // connection, and the count bounds it even against a server that keeps doing that.
            if neverSent && exchange.resends < PendingExchange.maxResends && exchange.deadline > .now() {
                var again = exchange
                again.resends += 1
                state.waiting.prepend(again)
            } else {
                exchange.completion(.failure(failure))
            }
        }
        dispatch()
    }

    /// An idle connection the server (or the idle timeout) closed.
    private func idleClosed(_ connection: PoolConnection) {
        let state = self.state.value
        guard let index = state.idle.firstIndex(where: { $0 === connection }) else { return }
        state.idle.remove(at: index)
        state.open -= 1
    }

    /// Fails requests that waited for a connection past their deadline.
    /// One chain of checks at a time, while requests wait.
    private func scheduleQueueTimeout() {
        state.value.queueTimerRunning = true
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(100)) { [self] in
            let state = self.state.value
            state.queueTimerRunning = false
            let now = NIODeadline.now()
            // Requests may have different timeouts: every waiting one is checked.
            var kept: Deque<PendingExchange> = []
            for exchange in state.waiting {
                if exchange.deadline <= now { exchange.completion(.failure(.timeout)) } else { kept.append(exchange) }
            }
            state.waiting = kept
            if !state.waiting.isEmpty { scheduleQueueTimeout() }
        }
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError { return error.description }
        return "\(error)"
    }
}

/// One shard's connections and waiting requests, on its event loop.
final class ShardState {
    var idle: [PoolConnection] = []
    var busy: [ObjectIdentifier: PoolConnection] = [:]
    var waiting: Deque<PendingExchange> = []
    var connecting = 0
    var open = 0
    var shutDown = false
    /// A queue-timeout check is scheduled.
    var queueTimerRunning = false
    var total: Int { open + connecting }
}

/// A request waiting for (or on) a connection.
struct PendingExchange {
    let request: HTTPRequestBytes
    let deadline: NIODeadline
    let completion: HTTPConnectionPool.Completion
    /// How often it went out again after finding its connection closed before any byte of it
    /// was written.
    var resends = 0
    /// The bound on `resends`.
    static let maxResends = 8
}
