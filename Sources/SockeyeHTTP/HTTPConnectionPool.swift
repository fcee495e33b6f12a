import DequeModule
import NIOCore
import NIOPosix
import SockeyeCore
import Synchronization

/// Keep-alive HTTP/1.1 connections to one origin (`http://`, or `https://` with `PoolTLS`),
/// for request/response exchanges that must be cheap: the forwarder's POSTs to an HTTP-mode
/// app.
///
/// - One request at a time per connection (no pipelining: a POST is not safe to replay), at
///   most `maxConnections` connections; further requests wait in order.
/// - Requests are given encoded (`HTTPRequestBytes`), answers parsed by SockeyeCore's
///   `HTTPResponseParser` (Content-Length or chunked bodies; a body that ends only when the
///   connection closes is read, and the connection is not reused).
/// - `timeout` counts from `execute`: a request still waiting for a connection, or for its
///   answer, fails with `.timeout` then (its connection is closed: a late answer must not be
///   read as the next request's).
/// - A request is sent again (on another connection) only when it provably never reached
///   the server: its reused keep-alive connection was found closed by the server before any
///   byte of it was written. A connection that closes after the request was written, with no
///   answer or part of one, fails the request with `.connectionClosed` and the caller decides
///   (the server may have read it and acted on it: a POST is not safe to replay).
///
/// The connections are spread over the event loop group's loops (one `PoolShard` each,
/// requests given to them in turn), so the exchanges of a busy forwarder use every core.
///
/// Thread-safe: `execute` may be called from any thread; each connection and its shard's
/// queue live on one event loop, and `completion` runs there (it must not block).
public final class HTTPConnectionPool: Sendable {
    /// Why an exchange failed.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The TCP connection could not be made (refused, unreachable, or its own timeout).
        case connectFailed(String)
        /// The TLS handshake failed (an untrusted certificate, a name it does not cover, no
        /// common protocol version); the request was not sent.
        case tls(String)
        /// No complete answer within the request's timeout.
        case timeout
        /// The connection ended before the answer was complete.
        case connectionClosed
        /// The answer was not HTTP/1.1 the parser accepts.
        case malformedResponse(String)
        /// The answer's body is larger than the pool's limit; `status` is its status code
        /// (the body was not read, the connection is closed).
        case responseTooLarge(status: Int, limit: Int)
        /// The pool was shut down.
        case shutDown

        public var description: String {
            switch self {
            case .connectFailed(let why): "cannot connect: \(why)"
            case .tls(let why): "no secure connection: \(why)"
            case .timeout: "no answer within the timeout"
            case .connectionClosed: "the connection closed before the answer was complete"
            case .malformedResponse(let why): "malformed answer: \(why)"
            case .responseTooLarge(let status, let limit): "the answer (status \(status)) has a body over \(limit) bytes"
            case .shutDown: "the client was shut down"
            }
        }
    }

    public typealias Completion = @Sendable (Result<HTTPResponse, Failure>) -> Void

    private let shards: [PoolShard]
    private let turn = Atomic<Int>(0)

    /// A pool for `host:port` (a name or an IP literal) of at most `maxConnections`
    /// connections (split between the group's event loops, at least one each), over TLS when
    /// `tls` is given.
    public init(host: String, port: Int, maxConnections: Int, tls: PoolTLS? = nil, connectTimeout: TimeAmount = .seconds(5),
                idleTimeout: TimeAmount = .seconds(55), maxResponseBytes: Int = 1 << 20,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        let loops = Array(group.makeIterator())
        let count = max(1, min(loops.count, maxConnections))
        shards = (0..<count).map { index in
            let share = maxConnections / count + (index < maxConnections % count ? 1 : 0)
            return PoolShard(host: host, port: port, maxConnections: max(1, share), tls: tls, connectTimeout: connectTimeout,
                             idleTimeout: idleTimeout, maxResponseBytes: maxResponseBytes, eventLoop: loops[index])
        }
    }

    /// Sends `request` and calls `completion` (on the event loop of the connection that
    /// carried it) with the answer or the failure, within `timeout`.
    public func execute(_ request: HTTPRequestBytes, timeout: TimeAmount, completion: @escaping Completion) {
        let index = turn.add(1, ordering: .relaxed).oldValue
        shards[index % shards.count].execute(request, timeout: timeout, completion: completion)
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
        for shard in shards { await shard.shutdown() }
    }
}
