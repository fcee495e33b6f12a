import SockeyeCore

/// One `apps.connections.open` call: a POST over a fresh conduit (`Connection: close`),
/// parsed by the core's HTTP codec, answered to the pool as a `ConnectionsOpenResult`.
/// Any failure below HTTP becomes `.transportFailure` with the layer's own message.
final class ConnectionsOpenExchange: ConduitOwner {
    private let conduit: Conduit
    private let request: [UInt8]
    private var parser = HTTPResponseParser()
    private var answered = false
    private let completion: (ConnectionsOpenResult, TransportError?) -> Void

    init(runtime: TransportRuntime, apiBase: EndpointURL, appToken: String, proxy: EndpointURL?,
         tls: TLSConfiguration?, userAgent: String, completion: @escaping (ConnectionsOpenResult, TransportError?) -> Void) {
        let endpoint = apiBase.appendingPath("apps.connections.open")
        conduit = Conduit(runtime: runtime, target: endpoint, proxy: proxy, tls: tls, userAgent: userAgent)
        request = ConnectionsOpenCall.request(apiBase: apiBase, appToken: appToken, userAgent: userAgent)
        self.completion = completion
        conduit.owner = self
    }

    /// Service thread (the client releases it there): the conduit may outlive its owner.
    deinit { conduit.owner = nil }

    func start() { conduit.start() }

    /// Gives up (the pool is stopping); no answer is reported.
    func cancel() {
        answered = true
        conduit.abort()
    }

    func conduitOpened() { conduit.send(request) }

    func conduitReceived(_ bytes: UnsafeRawBufferPointer) {
        guard !answered else { return }
        do {
            if let response = try parser.receive(bytes) { answer(ConnectionsOpenCall.result(of: response)) }
        } catch {
            fail(.http(error.description))
        }
        if answered { conduit.close() }
    }

    func conduitWillWrite() {}

    func conduitEnded(_ error: TransportError?) {
        guard !answered else { return }
        if let error { return fail(error) }
        do {
            answer(ConnectionsOpenCall.result(of: try parser.receiveEnd()))
        } catch {
            fail(.http("the server closed the connection: \(error.description)"))
        }
    }

    private func answer(_ result: ConnectionsOpenResult, error: TransportError? = nil) {
        guard !answered else { return }
        answered = true
        completion(result, error)
    }

    /// No usable HTTP answer: the pool sees a transport failure, the host the layer's error.
    private func fail(_ error: TransportError) {
        answer(.transportFailure(error.description), error: error)
    }
}
