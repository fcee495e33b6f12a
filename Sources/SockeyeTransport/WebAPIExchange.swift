import SockeyeCore

/// One Web API call (`apps.connections.open`, `auth.test` …) over a fresh conduit, through
/// the runtime's service thread, with the same DNS, proxy and TLS handling everywhere.
///
/// The whole exchange has one deadline, from the DNS lookup to the last byte of the answer:
/// a server, proxy or TLS peer that accepts and then says nothing would otherwise hold the
/// call for ever (TCP keeps an idle connection open indefinitely). When it passes, the
/// conduit is dropped and the call fails with `.timeout`, naming the step that stalled.
final class WebAPIExchange: ConduitOwner {
    private let conduit: Conduit
    private let request: [UInt8]
    private let method: String
    private let timeout: Duration
    private let deadline: ServiceTimer
    private var parser = HTTPResponseParser()
    private var receivedAny = false
    private var answered = false
    private let completion: (Result<HTTPResponse, TransportError>) -> Void

    /// `method` names the call in a timeout's message; `timeout` bounds the whole exchange.
    init(runtime: TransportRuntime, method: String, url: EndpointURL, request: [UInt8], proxy: EndpointURL?,
         tls: TLSConfiguration?, userAgent: String, timeout: Duration,
         completion: @escaping (Result<HTTPResponse, TransportError>) -> Void) {
        conduit = Conduit(runtime: runtime, target: url, proxy: proxy, tls: tls, userAgent: userAgent)
        deadline = ServiceTimer(runtime: runtime)
        self.request = request
        self.method = method
        self.timeout = timeout
        self.completion = completion
        conduit.owner = self
    }

    /// Service thread: the conduit may outlive its owner, the deadline must not fire for it.
    deinit {
        conduit.owner = nil
        deadline.cancel()
    }

    /// Arms the deadline and starts connecting.
    func start() {
        deadline.schedule(after: timeout) { [unowned self] in withExtendedLifetime(self) { self.timedOut() } }
        conduit.start()
    }

    /// Fails the call with `error` at once and drops the connection (the runtime is ending).
    func abandon(_ error: TransportError) {
        answer(.failure(error))
        conduit.abort(error)
    }

    /// Gives up (the caller is stopping); no answer is reported.
    func cancel() {
        answered = true
        deadline.cancel()
        conduit.abort()
    }

    func conduitOpened() { conduit.send(request) }

    func conduitReceived(_ bytes: UnsafeRawBufferPointer) {
        guard !answered else { return }
        receivedAny = true
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

    /// The deadline passed: drop the connection and fail with the step that stalled.
    private func timedOut() {
        guard !answered else { return }
        let step = conduit.waitingFor ?? (receivedAny ? "rest of the HTTP answer" : "HTTP answer")
        let error = TransportError.timeout("no answer to \(method) within \(WebAPIExchange.describe(timeout)) (\(step))")
        conduit.abort(error)
        answer(.failure(error))
    }

    private func answer(_ result: Result<HTTPResponse, TransportError>) {
        guard !answered else { return }
        answered = true
        deadline.cancel()
        completion(result)
    }

    /// "10 s", "1.5 s", "250 ms": a deadline as a log line shows it.
    static func describe(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let milliseconds = attoseconds / 1_000_000_000_000_000
        if seconds >= 1 && milliseconds == 0 { return "\(seconds) s" }
        if seconds >= 1 { return "\(Double(seconds) + Double(milliseconds) / 1000) s" }
        return "\(max(0, milliseconds)) ms"
    }
}

extension TransportRuntime {
    /// How long a Web API call may take by default, from the DNS lookup to the answer.
    public static let defaultWebAPITimeout: Duration = .seconds(10)

    /// The range a Web API deadline must lie in: long enough for a slow TLS handshake on a
    /// loaded machine, short enough that a stalled call is noticed.
    public static let webAPITimeoutRange: ClosedRange<Duration> = .milliseconds(100) ... .seconds(300)

    /// Calls the Web API `method` below `apiBaseURL` with `token` and form `arguments`; the
    /// HTTP answer, or the layer that failed (DNS, TCP, proxy, TLS, HTTP, or `.timeout` when
    /// the whole exchange took longer than `timeout`, 10 s by default, 0.1…300 s). Proxies
    /// come from `proxy` or else `environment` (`HTTPS_PROXY`, `NO_PROXY` …); `caFile` as for
    /// clients. Any thread; the work runs on the service thread. Not for the event path.
    public func callWebAPI(
        method: String, token: String, apiBaseURL: String, arguments: [(String, String)] = [],
        proxy: ProxySettings? = nil, caFile: String? = nil, environment: [String: String] = [:],
        userAgent: String = "sockeye/\(SockeyeVersion.string)", timeout: Duration = TransportRuntime.defaultWebAPITimeout
    ) async throws(TransportError) -> HTTPResponse {
        try await callWebAPI(method: method, credentials: .bearer(token), apiBaseURL: apiBaseURL, arguments: arguments, proxy: proxy,
                             caFile: caFile, environment: environment, userAgent: userAgent, timeout: timeout)
    }

    /// `callWebAPI(method:token:…)` authenticated with `credentials` (the app's client id
    /// and secret for `oauth.v2.access`).
    public func callWebAPI(
        method: String, credentials: WebAPIRequest.Credentials, apiBaseURL: String, arguments: [(String, String)] = [],
        proxy: ProxySettings? = nil, caFile: String? = nil, environment: [String: String] = [:],
        userAgent: String = "sockeye/\(SockeyeVersion.string)", timeout: Duration = TransportRuntime.defaultWebAPITimeout
    ) async throws(TransportError) -> HTTPResponse {
        guard TransportRuntime.webAPITimeoutRange.contains(timeout) else {
            throw .invalidSetting("Web API timeout \(timeout) is outside 0.1…300 s")
        }
        let base: EndpointURL
        do {
            base = try EndpointURL(apiBaseURL)
        } catch {
            throw .invalidURL("API base URL '\(URLRedaction.maskingPassword(apiBaseURL))': \(error.description)")
        }
        var settings = ProxySettings()
        if let proxy {
            do {
                settings = try proxy.validated()
            } catch {
                throw .invalidURL("proxy setting: \(error.description)")
            }
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
        // The conduit tunnels through every proxy with CONNECT, http:// targets included: the
        // request is the direct one (no absolute form, and never the proxy's credentials,
        // which the server at the end of the tunnel would read).
        let request = WebAPIRequest.request(method: method, apiBase: base, credentials: credentials, arguments: arguments,
                                            userAgent: userAgent, proxy: nil)
        let sendableArguments = UncheckedSendable((url, request, hop, tls))
        let result: Result<HTTPResponse, TransportError> = await withCheckedContinuation { continuation in
            let ending = TransportError.runtime("the runtime shut down")
            enqueue(.call({ [self] in
                let (url, request, hop, tls) = sendableArguments.value
                var key: ObjectIdentifier?
                // The runtime holds the exchange until it answers, and fails it at shutdown.
                let exchange = WebAPIExchange(runtime: self, method: method, url: url, request: request, proxy: hop,
                                              tls: tls, userAgent: userAgent, timeout: timeout) { [self] result in
                    if let key { calls[key] = nil }
                    continuation.resume(returning: result)
                }
                key = ObjectIdentifier(exchange)
                calls[ObjectIdentifier(exchange)] = exchange
                exchange.start()
            }, dropped: { continuation.resume(returning: .failure(ending)) }))
        }
        return try result.get()
    }
}
