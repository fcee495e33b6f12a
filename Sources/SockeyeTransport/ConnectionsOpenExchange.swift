import SockeyeCore

/// One `apps.connections.open` call: a Web API exchange (`Connection: close`, one deadline
/// over DNS, TCP, proxy, TLS and the answer) whose answer is mapped to the pool's
/// `ConnectionsOpenResult`. Any failure below HTTP, a timeout included, becomes
/// `.transportFailure` with the layer's own message, which the pool retries with backoff.
final class ConnectionsOpenExchange {
    private let exchange: WebAPIExchange

    init(runtime: TransportRuntime, apiBase: EndpointURL, appToken: String, proxy: EndpointURL?,
         tls: TLSConfiguration?, userAgent: String, timeout: Duration,
         completion: @escaping (ConnectionsOpenResult, TransportError?) -> Void) {
        exchange = WebAPIExchange(
            runtime: runtime, method: ConnectionsOpenCall.method, url: ConnectionsOpenCall.url(apiBase: apiBase),
            request: ConnectionsOpenCall.request(apiBase: apiBase, appToken: appToken, userAgent: userAgent),
            proxy: proxy, tls: tls, userAgent: userAgent, timeout: timeout
        ) { result in
            switch result {
            case .success(let response): completion(ConnectionsOpenCall.result(of: response, apiBase: apiBase), nil)
            case .failure(let error): completion(.transportFailure(error.description), error)
            }
        }
    }

    func start() { exchange.start() }

    /// Gives up (the pool is stopping); no answer is reported.
    func cancel() { exchange.cancel() }
}
