import NIOCore
import SockeyeCore
import SockeyeHTTP
import SockeyeSinkKit
import Synchronization

/// How the forwarder reaches one Request URL: over SockeyeHTTP's keep-alive
/// `HTTPConnectionPool`, plain for `http://`, TLS (swift-nio-ssl) for `https://`.
///
/// One client for both schemes: SockeyeHTTP's pool. It completes exchanges through callbacks
/// on the connection's event loop, with no task, no future chain and no header dictionary per
/// request, and it already carries the forwarder's rules (answers read in order, 1 MiB
/// answers, the HTTP/1.0 close, a resend only when the request provably never left).
/// Measured (benchmarks/results/daemon.md, "One HTTP client for the forwarder"): on
/// `https://` the pool costs sockeyed about 50 µs per forwarded event where async-http-client
/// cost about 128 µs (and 165 against 54–75 µs on `http://` when that path moved first).
/// TLS was the one thing the pool lacked; `PoolTLS` adds it with swift-nio-ssl, the library
/// async-http-client used too, so no new TLS library entered the build.
enum ForwardTransport: Sendable {
    case pool(HTTPConnectionPool, target: String, hostHeader: String)
    /// A URL that does not parse, or TLS settings that cannot be used: every request fails
    /// with the reason.
    case invalid(String)

    /// An answer, or why there is none.
    enum Answer: Sendable {
        case response(status: Int, headers: [HTTPHeader], body: [UInt8])
        /// A status whose body was too large to read (the app's reply cannot be used).
        case oversize(status: Int, description: String)
        case timeout
        case failed(String)
    }

    /// POSTs `body` with `headers`; `completion` gets the answer within `timeout`.
    func post(headers: [(String, String)], body: [UInt8], timeout: TimeAmount, completion: @escaping @Sendable (Answer) -> Void) {
        switch self {
        case .pool(let pool, let target, let hostHeader):
            let request = HTTPRequestBytes(target: target, host: hostHeader, headers: headers, body: body)
            pool.execute(request, timeout: timeout) { result in
                switch result {
                case .success(let response): completion(.response(status: response.status, headers: response.headers, body: response.body))
                case .failure(.timeout): completion(.timeout)
                case .failure(let failure):
                    if case .responseTooLarge(let status, _) = failure {
                        completion(.oversize(status: status, description: failure.description))
                    } else {
                        completion(.failed(failure.description))
                    }
                }
            }
        case .invalid(let why):
            completion(.failed(why))
        }
    }
}

/// At most `limit` exchanges of one app in progress; the rest start in order as earlier ones
/// finish. Callback-based (no task per request).
final class CallbackLimiter: Sendable {
    private struct State {
        var available: Int
        var waiting: [@Sendable () -> Void] = []
        var head = 0
    }
    private let state: Mutex<State>

    init(_ limit: Int) { state = Mutex(State(available: max(1, limit))) }

    /// Runs `work` now if a slot is free, else when one is released.
    func acquire(_ work: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.available > 0 {
                state.available -= 1
                return true
            }
            state.waiting.append(work)
            return false
        }
        if now { work() }
    }

    /// Frees a slot (or hands it to the oldest waiting work).
    func release() {
        let next = state.withLock { state -> (@Sendable () -> Void)? in
            guard state.head < state.waiting.count else {
                state.available += 1
                return nil
            }
            let work = state.waiting[state.head]
            state.head += 1
            if state.head > 256 && state.head * 2 > state.waiting.count {
                state.waiting.removeFirst(state.head)
                state.head = 0
            }
            return work
        }
        next?()
    }
}

/// The outcome of a batch, filled in as its exchanges finish (any thread); `done` runs once,
/// after the last.
final class BatchResults: Sendable {
    private struct State {
        var outcome = SinkOutcome(refused: [], error: nil)
        var remaining: Int
    }
    private let state: Mutex<State>
    private let done: @Sendable (SinkOutcome) -> Void

    init(count: Int, done: @escaping @Sendable (SinkOutcome) -> Void) {
        state = Mutex(State(remaining: count))
        self.done = done
    }

    func set(_ index: Int, _ result: HTTPForwarderSink.Result) {
        let finished = state.withLock { state -> SinkOutcome? in
            switch result {
            case .accepted(let response):
                if let response { state.outcome.responses[index] = response }
            case .refused(let why):
                state.outcome.refused.append(index)
                if state.outcome.error == nil { state.outcome.error = why }
            }
            state.remaining -= 1
            return state.remaining == 0 ? state.outcome : nil
        }
        if let finished { done(finished) }
    }
}

/// Runs a closure at most once, whichever caller comes first.
final class Once: Sendable {
    private let taken = Mutex(false)
    /// True for the first caller only.
    func take() -> Bool { taken.withLock { taken in defer { taken = true }; return !taken } }
}
