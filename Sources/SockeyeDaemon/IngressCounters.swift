import Metrics
import SockeyeSinkKit

/// `sockeyed_ingress_requests_total{app,kind,outcome}` for one HTTP-mode app, every
/// counter made once when the app starts: making one looks it up in the metrics registry,
/// which costs more than the rest of a request's bookkeeping, and the series exist (at 0)
/// before the first request.
public final class IngressCounters: Sendable {
    /// Every outcome the ingress counts: answered (acked, nacked, URL verification, a
    /// notice) or refused (size, signature, body).
    public static let outcomes = ["acked", "nacked", "url_verification", "notice", "too_large", "malformed",
                                  "missing_signature", "malformed_signature", "stale_timestamp", "bad_signature"]
    private let app: String
    private let counters: [String: Counter]

    /// The counters of `app`.
    public init(app: String) {
        self.app = app
        var counters: [String: Counter] = [:]
        for kind in ["events", "commands", "actions", "unknown"] {
            for outcome in Self.outcomes {
                counters[kind + "/" + outcome] = Counter(label: "sockeyed_ingress_requests_total",
                                                         dimensions: [("app", app), ("kind", kind), ("outcome", outcome)])
            }
        }
        self.counters = counters
    }

    /// Counts one request of `kind` (nil: not known yet) that came to `outcome`.
    public func count(_ kind: IngressRequest.Kind?, _ outcome: String) {
        let kindName = kind?.rawValue ?? "unknown"
        if let counter = counters[kindName + "/" + outcome] {
            counter.increment()
        } else {
            Counter(label: "sockeyed_ingress_requests_total", dimensions: [("app", app), ("kind", kindName), ("outcome", outcome)])
                .increment()
        }
    }
}
