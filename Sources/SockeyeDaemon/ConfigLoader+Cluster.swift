import Foundation
import Sockeye
import SockeyeSinkKit
import Yams

extension NodeReader {
    /// The top-level `cluster:` block: `nats:` (one URL or a list), `node:` (default: the host
    /// name), `request_timeout:`, `lease_time:`, `max_connections:`, and for TLS `ca_file:`,
    /// `client_cert:` and `client_key:`.
    func clusterSection(_ node: Node) throws(ConfigError) -> ClusterSettings {
        let fields = try members(node, "cluster", allowed: ["nats", "node", "request_timeout", "lease_time", "max_connections",
                                                            "ca_file", "client_cert", "client_key"])
        func field(_ name: String) -> Node? { fields.first { $0.0 == name }?.1 }
        guard let serversNode = field("nats") else {
            throw fail(node, "cluster.nats", "missing: the NATS servers, e.g. [nats://10.0.0.1:4222, nats://10.0.0.2:4222]")
        }
        let servers = try strings(serversNode, "cluster.nats")
        guard servers.count <= ClusterSettings.maxServers else {
            throw fail(serversNode, "cluster.nats", "at most \(ClusterSettings.maxServers) servers (the others are found from these)")
        }
        for (index, server) in servers.enumerated() {
            let parsed: EndpointURL
            do {
                parsed = try EndpointURL(server)
            } catch {
                throw fail(serversNode, "cluster.nats[\(index)]", "\(error.description): \(URLRedaction.maskingPassword(server))")
            }
            guard parsed.scheme == .nats || parsed.scheme == .tls else {
                throw fail(serversNode, "cluster.nats[\(index)]", "a NATS server is nats://host:port or tls://host:port, got \(parsed)")
            }
            guard parsed.requestTarget == "/", parsed.query == nil else {
                throw fail(serversNode, "cluster.nats[\(index)]", "a NATS server URL has no path or query: \(parsed)")
            }
        }
        var nodeName = Self.defaultNodeName()
        if let nameNode = field("node") {
            nodeName = try string(nameNode, "cluster.node")
            guard Self.isNodeName(nodeName) else {
                throw fail(nameNode, "cluster.node", "a node name has 1 to 64 printable ASCII characters, without spaces, dots, * or >")
            }
        }
        var settings = ClusterSettings(servers: servers, node: nodeName)
        if let timeout = field("request_timeout") {
            settings.requestTimeoutSeconds = try duration(timeout, "cluster.request_timeout", range: 0.1...60)
        }
        if let lease = field("lease_time") {
            settings.leaseTimeSeconds = try duration(lease, "cluster.lease_time", range: ClusterSettings.leaseTimeRange)
        }
        func readable(_ key: String, _ what: String) throws(ConfigError) -> String? {
            guard let found = field(key) else { return nil }
            let path = try string(found, "cluster.\(key)")
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw fail(found, "cluster.\(key)", "cannot read \(ConfigLoader.quoted(path)) (\(what))")
            }
            return path
        }
        settings.caFile = try readable("ca_file", "a PEM file of CA certificates")
        settings.clientCertificateFile = try readable("client_cert", "a PEM certificate")
        settings.clientKeyFile = try readable("client_key", "a PEM private key")
        if (settings.clientCertificateFile == nil) != (settings.clientKeyFile == nil), let given = field("client_cert") ?? field("client_key") {
            throw fail(given, "cluster.client_cert", "client_cert and client_key go together")
        }
        if let budget = field("max_connections") {
            settings.maxConnections = try int(budget, "cluster.max_connections", range: ClusterSettings.maxConnectionsRange)
        }
        return settings
    }

    /// Whether `name` can name a node: 1 to 64 printable ASCII characters other than `.`,
    /// `*` and `>` (it becomes a NATS subject token).
    static func isNodeName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "*") && $0 != UInt8(ascii: ">") && $0 != UInt8(ascii: ".") }
    }

    /// The machine's host name up to its first dot (no DNS lookup), or `sockeyed`.
    static func defaultNodeName() -> String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let named = buffer.withUnsafeMutableBytes { gethostname($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
        guard named == 0 else { return "sockeyed" }
        let text = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        let name = text.split(separator: ".").first.map(String.init) ?? ""
        return isNodeName(name) ? name : "sockeyed"
    }

    /// A `jetstream` sink's settings.
    func jetStreamSink(_ node: Node, _ key: String, field: (String) -> Node?) throws(ConfigError) -> JetStreamSettings {
        guard let streamNode = field("stream") else { throw fail(node, "\(key).stream", "missing: the stream's name, e.g. SLACK") }
        let stream = try string(streamNode, "\(key).stream")
        if let problem = JetStreamSettings.streamNameProblem(stream) { throw fail(streamNode, "\(key).stream", problem) }
        var settings = JetStreamSettings(stream: stream)
        if let prefixNode = field("subject_prefix") {
            let prefix = try string(prefixNode, "\(key).subject_prefix")
            if let problem = JetStreamSettings.subjectPrefixProblem(prefix) { throw fail(prefixNode, "\(key).subject_prefix", problem) }
            settings.subjectPrefix = prefix
        }
        if let window = field("duplicate_window") {
            settings.duplicateWindowSeconds = try duration(window, "\(key).duplicate_window", range: JetStreamSettings.duplicateWindowRange)
        }
        if let age = field("max_age") {
            settings.maxAgeSeconds = try duration(age, "\(key).max_age", range: 60...(3650 * 86_400))
            guard settings.maxAgeSeconds >= settings.duplicateWindowSeconds else {
                throw fail(age, "\(key).max_age", "the stream keeps events at least as long as its duplicate window "
                           + "(\(ConfigQuantity.describe(seconds: settings.duplicateWindowSeconds...settings.duplicateWindowSeconds)))")
            }
        } else if settings.maxAgeSeconds < settings.duplicateWindowSeconds {
            settings.maxAgeSeconds = settings.duplicateWindowSeconds
        }
        if let size = field("max_size") { settings.maxBytes = try byteCount(size, "\(key).max_size", range: (1 << 20)...(64 << 40)) }
        if let replicas = field("replicas") {
            settings.replicas = try int(replicas, "\(key).replicas", range: JetStreamSettings.replicasRange)
        }
        if let timeout = field("timeout") {
            settings.publishTimeoutSeconds = try duration(timeout, "\(key).timeout", range: JetStreamSettings.publishTimeoutRange)
        }
        if let wait = field("answer_wait") {
            settings.answerWaitSeconds = try duration(wait, "\(key).answer_wait", range: JetStreamSettings.answerWaitRange)
        }
        return settings
    }

    /// One entry of the top-level `workers:` list.
    func worker(_ node: Node, _ key: String) throws(ConfigError) -> WorkerSettings {
        let fields = try members(node, key, allowed: ["name", "stream", "filter", "durable", "routes", "max_deliver", "backoff",
                                                      "ack_wait", "batch"])
        func field(_ name: String) -> Node? { fields.first { $0.0 == name }?.1 }
        guard let nameNode = field("name") else { throw fail(node, "\(key).name", "missing: the worker's name") }
        let name = try string(nameNode, "\(key).name")
        guard Self.isNodeName(name) else {
            throw fail(nameNode, "\(key).name", "a worker's name has 1 to 64 printable ASCII characters, without spaces, dots, * or >")
        }
        guard let streamNode = field("stream") else { throw fail(node, "\(key).stream", "missing: the stream to consume, e.g. SLACK") }
        let stream = try string(streamNode, "\(key).stream")
        if let problem = JetStreamSettings.streamNameProblem(stream) { throw fail(streamNode, "\(key).stream", problem) }
        guard case .sequence(let list)? = field("routes"), !list.isEmpty else {
            throw fail(field("routes") ?? node, "\(key).routes", "expected a list of routes (each with `sinks:` and an optional `match:`)")
        }
        var routes: [Route] = []
        for (index, item) in list.enumerated() { routes.append(try route(item, "\(key).routes[\(index)]")) }
        var settings = WorkerSettings(name: name, stream: stream, routes: routes)
        if let filterNode = field("filter") {
            let filter = try string(filterNode, "\(key).filter")
            guard Self.isSubjectFilter(filter) else {
                throw fail(filterNode, "\(key).filter", "a subject filter is dot-separated tokens, * for one token and > for the rest (slack.ops.>)")
            }
            settings.filter = filter
        }
        if let durableNode = field("durable") {
            let durable = try string(durableNode, "\(key).durable")
            if let problem = JetStreamSettings.streamNameProblem(durable) {
                throw fail(durableNode, "\(key).durable", problem.replacingOccurrences(of: "stream", with: "consumer"))
            }
            settings.durable = durable
        } else if JetStreamSettings.streamNameProblem(name) != nil {
            throw fail(nameNode, "\(key).durable", "the worker's name cannot name a consumer: give `durable:` (letters, digits, - and _)")
        }
        if let value = field("max_deliver") {
            settings.maxDeliver = try int(value, "\(key).max_deliver", range: WorkerSettings.maxDeliverRange)
        }
        if let value = field("backoff") {
            var pauses: [Double] = []
            let items: [Node] = if case .sequence(let list) = value { Array(list) } else { [value] }
            guard !items.isEmpty, items.count <= 16 else { throw fail(value, "\(key).backoff", "one to 16 durations") }
            for (index, item) in items.enumerated() { pauses.append(try duration(item, "\(key).backoff[\(index)]", range: 0.01...86_400)) }
            settings.backoffSeconds = pauses
        }
        if let value = field("ack_wait") { settings.ackWaitSeconds = try duration(value, "\(key).ack_wait", range: 1...3600) }
        if let value = field("batch") { settings.batch = try int(value, "\(key).batch", range: WorkerSettings.batchRange) }
        return settings
    }

    /// Whether `filter` is a NATS subject filter: non-empty tokens, `*` alone as a token, `>`
    /// only as the last token.
    static func isSubjectFilter(_ filter: String) -> Bool {
        let tokens = filter.split(separator: ".", omittingEmptySubsequences: false)
        guard !filter.isEmpty, filter.utf8.count <= 256 else { return false }
        for (index, token) in tokens.enumerated() {
            guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
            if token.contains("*"), token != "*" { return false }
            if token.contains(">"), token != ">" || index != tokens.count - 1 { return false }
        }
        return true
    }
}
