/// What the JetStream sink needs of NATS, and all it sees of it: `CNatsConnection` is the one
/// on the NATS C client; a test may drive the sink with its own.
///
/// Threading: every method may be called from any thread. `fetchStream`, `createStream` and
/// `updateStream` block for up to the request timeout (a round trip to the stream's leader):
/// call them off Swift's cooperative pool. `publish` and `reclaimPending` return at once.
/// PubAcks arrive on the implementation's own thread, through the `answer` handler it was made
/// with.
package protocol JetStreamConnection: AnyObject, Sendable {
    /// Servers the connection knows (those configured and those the cluster told it of):
    /// the automatic replica count is 3 when this is 3 or more.
    var serverCount: Int { get }
    /// Whether the connection is up now (not connecting, reconnecting or closed).
    var isConnected: Bool { get }
    /// The stream's settings and state, or nil when there is no such stream.
    func fetchStream(_ name: String) throws(JetStreamError) -> StreamSnapshot?
    /// Creates a stream.
    func createStream(_ spec: StreamSpec) throws(JetStreamError)
    /// Changes a stream's settings.
    func updateStream(_ spec: StreamSpec) throws(JetStreamError)
    /// Sends one message with `Nats-Msg-Id: messageID` (and `headers`) and returns without
    /// waiting. The stream's answer reaches the `answer` handler with `token`, unless
    /// `reclaimPending` takes it back first. A non-nil result is a failure to send (no answer
    /// will come).
    func publish(subject: String, messageID: String, payload: [UInt8], headers: [(String, String)], token: UInt64) -> JetStreamError?
    /// Takes back every message sent and not yet answered, returning their tokens: no
    /// answer will come for them (one that arrives later is dropped).
    func reclaimPending() -> [UInt64]
    /// Closes the connection; no answer comes after this returns. Idempotent.
    func close()
}

/// The handler a connection gives each PubAck (or failure) to, with the message's token.
package typealias JetStreamAnswerHandler = @Sendable (UInt64, PublishRound.Outcome) -> Void
