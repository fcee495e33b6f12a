import SockeyeCore

/// One Web API call (`auth.test`, a dry `apps.connections.open` …) over a fresh conduit,
/// through the runtime's service thread, with the same DNS, proxy and TLS handling as the
/// client's own calls. For tools and checks, not the event path.
final class WebAPIExchange: ConduitOwner {
    private let conduit: Conduit
    private let request: [UInt8]
    private var parser = HTTPResponseParser()
    private var answered = false
    private let completion: (Result<HTTPResponse, TransportError>) -> Void

    init(runtime: TransportRuntime, url: EndpointURL, request: [UInt8], proxy: EndpointURL?, tls: TLSConfiguration?,
         userAgent: String, completion: @escaping (Result<HTTPResponse, TransportError>) -> Void) {
        conduit = Conduit(runtime: runtime, target: url, proxy: proxy, tls: tls, userAgent: userAgent)
        self.request = request
        self.completion = completion
        conduit.owner = self
    }

    /// Service thread: the conduit may outlive its owner.
    deinit { conduit.owner = nil }

    func start() { conduit.start() }

    func conduitOpened() { conduit.send(request) }

    func conduitReceived(_ bytes: UnsafeRawBufferPointer) {
        guard !answered else { return }
        do {
            if let response = try parser.receive(bytes) { answer(.success(response)) }
        } catch {
            answer(.failure(.http(error.description)))
        }
        if answered { conduit.close() }
    }

    func conduitWillWrite() {}

    func conduitEnded(_ error: TransportError?) {
        guard !answered else { return }
        if let error { return answer(.failure(error)) }
        do {
            answer(.success(try parser.receiveEnd()))
        } catch {
            answer(.failure(.http("the server closed the connection: \(error.description)")))
        }
    }

    private func answer(_ result: Result<HTTPResponse, TransportError>) {
        guard !answered else { return }
        answered = true
        completion(result)
    }
}

extension TransportRuntime {
    /// Calls the Web API `method` below `apiBaseURL` with `token` and form `arguments`; the
    /// HTTP answer, or the layer that failed (DNS, TCP, proxy, TLS, HTTP). Proxies come from
    /// `proxy` or else `environment` (`HTTPS_PROXY`, `NO_PROXY` …); `caFile` as for clients.
    /// Any thread; the work runs on the service thread. Not for the event path.
    public func callWebAPI(
        method: String, token: String, apiBaseURL: String, arguments: [(String, String)] = [],
        proxy: ProxySettings? = nil, caFile: String? = nil, environment: [String: String] = [:],
        userAgent: String = "sockeye/\(SockeyeVersion.string)"
    ) async throws(TransportError) -> HTTPResponse {
        let base: EndpointURL
        do {
            base = try EndpointURL(apiBaseURL)
        } catch {
            throw .invalidURL("API base URL '\(apiBaseURL)': \(error.description)")
        }
        var settings = ProxySettings()
        if let proxy {
            settings = proxy
        } else {
            do {
                settings = try ProxySettings(environment: environment)
            } catch {
                throw .invalidURL("proxy setting: \(error.description)")
            }
        }
        let tls = try TLSConfiguration(caFile: caFile ?? environment["SSL_CERT_FILE"])
        let url = base.appendingPath(method)
        let hop = settings.proxy(for: url)
        let request = WebAPIRequest.request(method: method, apiBase: base, token: token, arguments: arguments,
                                            userAgent: userAgent, proxy: hop)
        let sendableArguments = UncheckedSendable((url, request, hop, tls))
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            async { [self] in
                let (url, request, hop, tls) = sendableArguments.value
                // The exchange keeps itself alive through its conduit until it answers.
                let holder = ExchangeHolder()
                let exchange = WebAPIExchange(runtime: self, url: url, request: request, proxy: hop, tls: tls,
                                              userAgent: userAgent) { result in
                    holder.exchange = nil
                    continuation.resume(returning: result)
                }
                holder.exchange = exchange
                exchange.start()
            }
        }
        return try result.get()
    }
}

/// Keeps an exchange alive until it answers (released on the service thread then).
private final class ExchangeHolder {
    var exchange: WebAPIExchange?
}
