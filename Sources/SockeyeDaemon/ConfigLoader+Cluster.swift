import Foundation
import Sockeye
import SockeyeSinkKit
import Yams

extension NodeReader {
    /// The top-level `cluster:` block: `nats:` (one URL or a list), `node:` (default: the host
    /// name) and `request_timeout:`.
    func clusterSection(_ node: Node) throws(ConfigError) -> ClusterSettings {
        let fields = try members(node, "cluster", allowed: ["nats", "node", "request_timeout"])
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
            guard parsed.scheme != .tls else {
                throw fail(serversNode, "cluster.nats[\(index)]", "TLS to the NATS servers is not supported yet: use nats:// on a trusted network")
            }
            guard parsed.scheme == .nats else {
                throw fail(serversNode, "cluster.nats[\(index)]", "a NATS server is nats://host:port, got \(parsed)")
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
        return settings
    }
}
