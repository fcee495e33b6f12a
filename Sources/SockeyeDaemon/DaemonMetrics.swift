import Metrics
import SockeyeSinkKit

/// The daemon's metrics, through swift-metrics (the operations listener exports them in
/// Prometheus' format). Names and dimensions:
/// - `sockeyed_events_received_total{app,envelope_type}`, `sockeyed_events_acked_total{app}`,
///   `sockeyed_events_nacked_total{app}`, `sockeyed_events_unrouted_total{app}`,
///   `sockeyed_events_unauthorized_total{app}` (apps installed by OAuth: no installation
///   covers the event's workspace);
/// - `sockeyed_events_deduplicated_total{app}`, `sockeyed_events_redelivered_total{app}`
///   (redeliveries Slack sent), from the client's counters;
/// - `sockeyed_ack_latency_seconds{app}`: from reading the frame to queuing its ack;
/// - `sockeyed_sink_seconds{sink}`, `sockeyed_sink_failures_total{sink}`;
/// - `sockeyed_connections{app,kind=live|wanted}`;
/// - `sockeyed_reconnects_total{app,reason}`, `sockeyed_open_errors_total{app,code}`;
/// - in a cluster: `sockeyed_cluster_connections_granted{app}`, `sockeyed_cluster_leader{app}`,
///   `sockeyed_cluster_slots{app,node}`;
/// - apps installed by OAuth (`AppInstallations`): `sockeyed_installs_total{app}`,
///   `sockeyed_installations_revoked_total{app}`, `sockeyed_token_refreshes_total{app,outcome}`,
///   `sockeyed_installations{app,state}`; the public listener counts
///   `sockeyed_oauth_requests_total{app,page,status}`.
struct AppMetrics: Sendable {
    let app: String
    let acked: Counter
    let nacked: Counter
    let unrouted: Counter
    let unauthorized: Counter
    let deduplicated: Counter
    let redelivered: Counter
    let ackLatency: Metrics.Timer
    let liveConnections: Gauge
    let wantedConnections: Gauge

    init(app: String) {
        self.app = app
        acked = Counter(label: "sockeyed_events_acked_total", dimensions: [("app", app)])
        nacked = Counter(label: "sockeyed_events_nacked_total", dimensions: [("app", app)])
        unrouted = Counter(label: "sockeyed_events_unrouted_total", dimensions: [("app", app)])
        unauthorized = Counter(label: "sockeyed_events_unauthorized_total", dimensions: [("app", app)])
        deduplicated = Counter(label: "sockeyed_events_deduplicated_total", dimensions: [("app", app)])
        redelivered = Counter(label: "sockeyed_events_redelivered_total", dimensions: [("app", app)])
        ackLatency = Metrics.Timer(label: "sockeyed_ack_latency_seconds", dimensions: [("app", app)], preferredDisplayUnit: .seconds)
        liveConnections = Gauge(label: "sockeyed_connections", dimensions: [("app", app), ("kind", "live")])
        wantedConnections = Gauge(label: "sockeyed_connections", dimensions: [("app", app), ("kind", "wanted")])
    }

    func received(_ count: Int, type: String) {
        Counter(label: "sockeyed_events_received_total", dimensions: [("app", app), ("envelope_type", type)]).increment(by: count)
    }

    func reconnect(reason: String) {
        Counter(label: "sockeyed_reconnects_total", dimensions: [("app", app), ("reason", reason)]).increment()
    }

    /// The app's share of the cluster's connections: this node's grant, whether it leads the
    /// app, and the slots each node holds as this node last read them (a node seen before and
    /// gone now is recorded at 0). Returns the nodes recorded.
    func cluster(_ share: ConnectionShareSnapshot, known: Set<String>) -> Set<String> {
        Gauge(label: "sockeyed_cluster_connections_granted", dimensions: [("app", app)]).record(share.granted.connections)
        Gauge(label: "sockeyed_cluster_leader", dimensions: [("app", app)]).record(share.leader == share.node ? 1 : 0)
        let byNode = share.slotsByNode
        let nodes = known.union(byNode.keys)
        for node in nodes {
            Gauge(label: "sockeyed_cluster_slots", dimensions: [("app", app), ("node", node)]).record(byNode[node] ?? 0)
        }
        return nodes
    }

    func openError(code: String) {
        Counter(label: "sockeyed_open_errors_total", dimensions: [("app", app), ("code", code)]).increment()
    }

    static func sink(_ name: String, seconds: Duration, failed: Bool) {
        Metrics.Timer(label: "sockeyed_sink_seconds", dimensions: [("sink", name)], preferredDisplayUnit: .seconds).recordNanoseconds(
            seconds.components.seconds * 1_000_000_000 + seconds.components.attoseconds / 1_000_000_000)
        if failed { Counter(label: "sockeyed_sink_failures_total", dimensions: [("sink", name)]).increment() }
    }
}
