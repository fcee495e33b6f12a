/// Why a JetStream call failed, in words fit for a log line and the status page (the
/// server's own text where it gave one; never a URL's password).
public struct JetStreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What the caller can do about it.
    public enum Kind: Sendable, Equatable {
        /// No server could answer now: not connected, no responders (a stream leader being
        /// elected), a request that timed out. The same call may succeed in a moment.
        case unavailable
        /// The stream does not exist (deleted behind the daemon's back): create it again.
        case streamNotFound
        /// The server refused the request for good: a bad configuration, a message too
        /// large, an account without JetStream. Retrying the same call does not help.
        case refused
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
