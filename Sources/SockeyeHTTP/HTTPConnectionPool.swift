import DequeModule
import NIOCore
import NIOPosix
import SockeyeCore
import Synchronization

/// Keep-alive HTTP/1.1 connections to one origin (plain `http://`), for request/response
/// exchanges that must be cheap: the forwarder's POSTs to an HTTP-mode app.
///
/// - One request at a time per connection (no pipelining: a POST is not safe to replay), at
///   most `maxConnections` connections; further requests wait in order.
/// - Requests are given encoded (`HTTPRequestBytes`), answers parsed by SockeyeCore's
///   `HTTPResponseParser` (Content-Length or chunked bodies; a body that ends only when the
///   connection closes is read, and the connection is not reused).
/// - `timeout` counts from `execute`: a request still waiting for a connection, or for its
///   answer, fails with `.timeout` then (its connection is closed: a late answer must not be
///   read as the next request's).
/// - A request sent on a reused connection that the server had closed meanwhile (the
///   keep-alive race: closed with no byte of answer) is sent once more on a new connection.
///
/// Thread-safe: `execute` may be called from any thread; every connection and the queue
/// live on one event loop, and `completion` runs there (it must not block).
public final class HTTPConnectionPool: Sendable {
    /// Why an exchange failed.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The TCP connection could not be made (refused, unreachable, or its own timeout).
        case connectFailed(String)
        /// No complete answer within the request's timeout.
        case timeout
        /// The connection ended before the answer was complete.
        case connectionClosed
        /// The answer was not HTTP/1.1 the parser accepts (or over the size limit).
        case malformedResponse(String)
        /// The pool was shut down.
        case shutDown

        public var description: String {
            switch self {
            case .connectFailed(let why): "cannot connect: \(why)"
            case .timeout: "no answer within the timeout"
            case .connectionClosed: "the connection closed before the answer was complete"
            case .malformedResponse(let why): "malformed answer: \(why)"
            case .shutDown: "the client was shut down"
            }
        }
    }

    public typealias Completion = @Sendable (Result<HTTPResponse, Failure>) -> Void

    let host: String
    let port: Int
    let maxConnections: Int
    let connectTimeout: TimeAmount
    let idleTimeout: TimeAmount
    let maxResponseBytes: Int
    let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<PoolState>

    /// A pool for `host:port` (a name or an IP literal).
    public init(host: String, port: Int, maxConnections: Int, connectTimeout: TimeAmount = .seconds(5),
                idleTimeout: TimeAmount = .seconds(55), maxResponseBytes: Int = 1 << 20,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.host = host
        self.port = port
        self.maxConnections = max(1, maxConnections)
        self.connectTimeout = connectTimeout
        self.idleTimeout = idleTimeout
        self.maxResponseBytes = maxResponseBytes
        eventLoop = group.next()
        state = NIOLoopBoundBox.makeBoxSendingValue(PoolState(), as: PoolState.self, eventLoop: eventLoop)
    }

    /// Sends `request` and calls `completion` (on the pool's event loop) with the answer or
    /// the failure, within `timeout`.
    public func execute(_ request: HTTPRequestBytes, timeout: TimeAmount, completion: @escaping Completion) {
        let deadline = NIODeadline.now() + timeout
        if eventLoop.inEventLoop {
            enqueue(PendingExchange(request: request, deadline: deadline, completion: completion))
        } else {
            eventLoop.execute { self.enqueue(PendingExchange(request: request, deadline: deadline, completion: completion)) }
        }
    }

    /// `execute`, awaited.
    public func execute(_ request: HTTPRequestBytes, timeout: TimeAmount) async -> Result<HTTPResponse, Failure> {
        await withCheckedContinuation { continuation in
            execute(request, timeout: timeout) { continuation.resume(returning: $0) }
        }
    }

    /// Fails waiting requests with `.shutDown`, closes every connection; later requests fail
    /// at once.
    public func shutdown() async {
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
        if state.waiting.count == 1 { scheduleQueueTimeout() }
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
        case .failed(let failure, let staleReuse):
            connection.close()
            state.open -= 1
            if staleReuse && !exchange.retried && exchange.deadline > .now() {
                var again = exchange
                again.retried = true
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
    private func scheduleQueueTimeout() {
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(100)) { [self] in
            let state = self.state.value
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

/// The pool's state, on its event loop.
final class PoolState {
    var idle: [PoolConnection] = []
    var busy: [ObjectIdentifier: PoolConnection] = [:]
    var waiting: Deque<PendingExchange> = []
    var connecting = 0
    var open = 0
    var shutDown = false
    var total: Int { open + connecting }
}

/// A request waiting for (or on) a connection.
struct PendingExchange {
    let request: HTTPRequestBytes
    let deadline: NIODeadline
    let completion: HTTPConnectionPool.Completion
    var retried = false
}
