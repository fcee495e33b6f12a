/// A `jetstream` sink's settings (docs/cluster.md): events are published to a JetStream
/// stream on the servers of the top-level `cluster:` block, and acked to Slack after the
/// stream's PubAck.
public struct JetStreamSettings: Sendable, Equatable {
    /// The stream (created when missing, its limits brought to these settings when present).
    public var stream: String
    /// The first token(s) of every subject: events go to `<prefix>.<app>.<envelope_type>.<event_type>`
    /// and the stream takes `<prefix>.>`.
    public var subjectPrefix = "slack"
    /// Messages older than this are removed (retention by age). At least the duplicate window.
    public var maxAgeSeconds: Double = 7 * 86_400
    /// The oldest messages are removed while the stream is larger than this; nil: no limit.
    public var maxBytes: Int64?
    /// How long the stream remembers message ids to drop duplicates: Slack retries an event
    /// for about 5 minutes after the first try, so the default of 15 minutes covers every
    /// retry and a node taking over another's events.
    public var duplicateWindowSeconds: Double = 15 * 60
    /// The stream's replicas; nil: 3 when the cluster lists three or more servers, else 1.
    public var replicas: Int?
    /// How long a batch may wait for its PubAcks (resending after a leader election's "no
    /// responders") before its events are nacked: under Slack's 3-second ack deadline.
    public var publishTimeoutSeconds: Double = 2
    /// For slash commands and interactions (envelopes whose ack can carry a response): how
    /// long after the batch began the sink waits for a worker's answer, sent back through
    /// NATS, to put in Slack's ack. nil: it does not wait (they are acked without one).
    public var answerWaitSeconds: Double?

    /// Limits the configuration enforces.
    public static let publishTimeoutRange: ClosedRange<Double> = 0.05...2.5
    public static let answerWaitRange: ClosedRange<Double> = 0.05...2.5
    public static let duplicateWindowRange: ClosedRange<Double> = 60...(7 * 86_400)
    public static let replicasRange: ClosedRange<Int> = 1...5

    public init(stream: String) {
        self.stream = stream
    }

    /// Why `name` cannot name a stream (1 to 64 of letters, digits, `-` and `_`), or nil.
    public static func streamNameProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 64 else { return "a stream name has 1 to 64 characters" }
        let allowed = name.utf8.allSatisfy { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
        return allowed ? nil : "a stream name has only letters, digits, - and _"
    }

    /// Why `prefix` cannot begin a subject (tokens of printable ASCII without `*`, `>` or
    /// spaces, separated by single dots, at most 128 bytes), or nil.
    public static func subjectPrefixProblem(_ prefix: String) -> String? {
        guard !prefix.isEmpty, prefix.utf8.count <= 128 else { return "a subject prefix has 1 to 128 characters" }
        for token in prefix.split(separator: ".", omittingEmptySubsequences: false) {
            guard !token.isEmpty else { return "a subject prefix has no empty token (no leading, trailing or double dot)" }
            guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: ">") }) else {
                return "a subject prefix has no wildcard (* or >), space or non-ASCII character"
            }
        }
        return nil
    }
}

/// The top-level `cluster:` block: the NATS servers the daemon's JetStream sinks, workers and
/// connection leases use, this node's name, and how the nodes share each app's connections.
public struct ClusterSettings: Sendable, Equatable {
    /// `nats://` URLs, with `user:password@` when the servers want it.
    public var servers: [String]
    /// This node's name in the cluster (the connection's name on the NATS servers).
    public var node: String
    /// How long connecting (and each JetStream API request) may take.
    public var requestTimeoutSeconds: Double = 5
    /// How long a node keeps a connection slot without renewing its lease: a node that
    /// stalls this long has closed the slot's connection, and another node takes it over.
    /// It must exceed the time Slack takes to drop a connection that stopped answering.
    public var leaseTimeSeconds: Double = 10
    /// Socket Mode connections per app for the whole cluster, the refresh spare included
    /// (Slack allows 10).
    public var maxConnections = 10
    /// TLS to the servers: on for `tls://` URLs (then for every server). The servers'
    /// certificates are checked against these CA certificates (PEM) when given, else the
    /// system's, and must name the host of the URL they were reached by.
    public var caFile: String?
    /// A client certificate and its key (PEM), for servers that verify their clients.
    public var clientCertificateFile: String?
    public var clientKeyFile: String?

    /// Whether the connections use TLS.
    public var usesTLS: Bool {
        servers.contains { $0.lowercased().hasPrefix("tls://") } || caFile != nil || clientCertificateFile != nil
    }

    public static let leaseTimeRange = 3.0...120.0
    public static let maxConnectionsRange = 2...10

    public static let maxServers = 32

    public init(servers: [String], node: String) {
        self.servers = servers
        self.node = node
    }
}
