/// One HTTP request from Slack to the ingress (an HTTP-mode app's Request URL), read into
/// the same `EventRecord` a Socket Mode envelope gives, so routes, sinks and the normalized
/// line do not depend on how the event came. The kit holds what the daemon and the ingress
/// share (the kinds of Request URL); the ingress (`SockeyeOperations`) adds the reading of
/// a body, sans-IO: the listener verifies the signature, then hands the body there.
public enum IngressRequest {
    /// Which Request URL the request came to.
    public enum Kind: String, Sendable {
        /// Event Subscriptions: a JSON body (`event_callback`, `url_verification`, …).
        case events
        /// Slash Commands: a form body.
        case commands
        /// Interactivity: a form body with one `payload` field holding JSON.
        case actions
    }
}
