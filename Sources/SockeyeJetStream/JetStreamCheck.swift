import Dispatch
import Foundation
import SockeyeCore
import SockeyeSinkKit

/// What `sockeyed check` says of a `jetstream` sink before the daemon runs: whether a NATS
/// server answers, and what the sink would do to its stream (`StreamPlan`), without changing
/// anything.
public enum JetStreamCheck {
    /// One line of the check: fine, or something to fix.
    public struct Finding: Sendable, Equatable {
        public var ok: Bool
        public var text: String
    }

    /// Connects to `cluster` (waiting up to its request timeout), reads the stream and closes.
    public static func run(settings: JetStreamSettings, cluster: ClusterSettings) async -> [Finding] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(returning: check(settings: settings, cluster: cluster))
            }
        }
    }

    /// The blocking check.
    static func check(settings: JetStreamSettings, cluster: ClusterSettings) -> [Finding] {
        let servers = cluster.servers.map(URLRedaction.url).joined(separator: ", ")
        let connection: CNatsConnection
        do {
            connection = try CNatsConnection(cluster: cluster, answer: { _, _ in })
        } catch {
            return [Finding(ok: false, text: error.message)]
        }
        defer { connection.close() }
        guard connection.waitUntilConnected(seconds: cluster.requestTimeoutSeconds) else {
            return [Finding(ok: false, text: "no NATS server answered within \(cluster.requestTimeoutSeconds) s (\(servers))")]
        }
        var findings = [Finding(ok: true, text: "connected; the cluster has \(connection.serverCount) server(s)")]
        let existing: StreamSnapshot?
        do {
            existing = try connection.fetchStream(settings.stream)
        } catch {
            let advice = error.kind == .unavailable ? " (is JetStream on? nats-server needs -js)" : ""
            findings.append(Finding(ok: false, text: error.message + advice))
            return findings
        }
        let wanted = StreamSpec.wanted(by: settings, serverCount: connection.serverCount)
        let held = existing.map { "stream \($0.spec.name): \($0.messages) messages, R\($0.spec.replicas)" + ($0.leader.map { ", leader \($0)" } ?? "") }
        switch StreamPlan.plan(wanted: wanted, existing: existing?.spec) {
        case .create:
            findings.append(Finding(ok: true, text: "stream \(settings.stream) does not exist yet: the first event creates it "
                                    + "(\(wanted.subjects[0]), file storage, R\(wanted.replicas))"))
        case .keep:
            findings.append(Finding(ok: true, text: (held ?? settings.stream) + "; as configured"))
        case .update(_, let changes):
            findings.append(Finding(ok: true, text: (held ?? settings.stream) + "; the daemon will set its \(changes.joined(separator: ", ")) to the configuration's"))
        case .conflict(let reason):
            findings.append(Finding(ok: false, text: reason))
        }
        return findings
    }
}
