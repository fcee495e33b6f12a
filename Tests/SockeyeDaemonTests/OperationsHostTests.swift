import Foundation
import Logging
import SockeyeCore
import SockeyeSinkKit
import Synchronization
import Testing
@testable import SockeyeOperations

/// The operations side driven by a host that is not the daemon: the status page, `/readyz`'s
/// decision and the ingress's routing read only what `OperationsHost` gives them.
@Suite("operations: a host other than the daemon")
struct OperationsHostTests {
    final class FakeSink: EventSink {
        let name: String
        let health: SinkHealth
        init(name: String, health: SinkHealth) {
            self.name = name
            self.health = health
        }
        func accept(_ records: [EventRecord]) async -> SinkOutcome { SinkOutcome(refused: [], error: nil) }
        func close() async {}
    }

    final class FakeApp: IngressApp {
        let name: String
        let signingSecretBytes = Array("secret".utf8)
        let authorizer: (any EventAuthorizer)? = nil
        let counted = Mutex<[String]>([])
        init(name: String) { self.name = name }
        func countIngress(_ kind: IngressRequest.Kind?, _ outcome: String) {
            counted.withLock { $0.append("\(kind?.rawValue ?? "unknown")/\(outcome)") }
        }
        func submit(_ requests: [(record: EventRecord, onAnswer: @Sendable (HTTPReply.Answer) -> Void)]) {
            for request in requests { request.onAnswer(.ack(response: nil)) }
        }
    }

    struct FakeHost: OperationsHost {
        let apps: [AppSnapshot]
        let sinks: [String: any EventSink]
        let routes: [String: IngressRoute]
        var workerHealth: [String: SinkHealth] = [:]
        func appSnapshots() -> [AppSnapshot] { apps }
        func ingressRoute(_ path: String) -> IngressRoute? { routes[path] }
    }

    static let failing = FakeSink(name: "hook", health: SinkHealth(kind: "http", problem: "POST https://hooks.example/in?token=SEKRIT refused",
                                                                   figures: [("sent", "12")]))

    static func host(secondReady: Bool) -> FakeHost {
        let first = AppSnapshot(name: "alpha", state: .running(live: 2, target: 2), ready: true, liveConnections: 2,
                                targetConnections: 2, received: 41, acked: 40, nacked: 1, unrouted: 3, deduplicated: 5, reconnects: 6,
                                recentErrors: [(Date(timeIntervalSince1970: 1_700_000_000), "GET https://slack.example/x?secret=HIDDEN failed")])
        let second = AppSnapshot(name: "<beta>", state: secondReady ? .running(live: 1, target: 1) : .connecting, ready: secondReady,
                                 liveConnections: secondReady ? 1 : 0, targetConnections: 1)
        return FakeHost(apps: [first, second], sinks: ["hook": failing], routes: [:])
    }

    @Test("readiness names the apps the host says are not ready, in its order")
    func readiness() {
        #expect(StatusPage(host: Self.host(secondReady: false)).appsNotReady() == ["<beta>"])
        #expect(StatusPage(host: Self.host(secondReady: true)).appsNotReady().isEmpty)
        #expect(StatusPage(host: FakeHost(apps: [], sinks: [:], routes: [:])).appsNotReady().isEmpty)
    }

    @Test("status.json carries the host's figures, with URLs cut and no secret")
    func json() throws {
        let text = StatusPage(host: Self.host(secondReady: false)).json()
        #expect(!text.contains("SEKRIT") && !text.contains("HIDDEN"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["ready"] as? Bool == false)
        let apps = try #require(object["apps"] as? [[String: Any]])
        #expect(apps.map { $0["name"] as? String } == ["alpha", "<beta>"])
        let events = try #require(apps[0]["events"] as? [String: Any])
        #expect(events["received"] as? Int == 41 && events["acked"] as? Int == 40 && events["nacked"] as? Int == 1)
        #expect(events["unrouted"] as? Int == 3 && events["deduplicated"] as? Int == 5)
        #expect(apps[0]["reconnects"] as? Int == 6)
        #expect(apps[1]["connections"] as? [String: Int] == ["live": 0, "wanted": 1])
        let sinks = try #require(object["sinks"] as? [[String: Any]])
        #expect(sinks.count == 1 && sinks[0]["ok"] as? Bool == false && sinks[0]["kind"] as? String == "http")
        #expect((sinks[0]["problem"] as? String)?.contains("https://hooks.example/in") == true)
    }

    @Test("the page shows readiness, escapes names and flags the failing sink")
    func html() {
        let notReady = StatusPage(host: Self.host(secondReady: false)).html()
        #expect(notReady.contains("2 apps, not ready"))
        #expect(notReady.contains("&lt;beta&gt;") && !notReady.contains("<beta>"))
        #expect(notReady.contains("REFUSING EVENTS") && !notReady.contains("SEKRIT"))
        #expect(StatusPage(host: Self.host(secondReady: true)).html().contains("2 apps, ready"))
    }

    @Test("workers are shown after the sinks, a worker that cannot read the stream flagged without secrets")
    func workers() throws {
        var host = Self.host(secondReady: true)
        host.workerHealth = ["archive": SinkHealth(kind: "worker", problem: "nats://u:PW@10.0.0.1:4222/x?token=T unreachable",
                                                   figures: [("processed", "7")])]
        let object = try #require(try JSONSerialization.jsonObject(with: Data(StatusPage(host: host).json().utf8)) as? [String: Any])
        let rows = try #require(object["sinks"] as? [[String: Any]])
        #expect(rows.map { $0["name"] as? String } == ["hook", "worker archive"])
        #expect(rows[1]["kind"] as? String == "worker" && rows[1]["ok"] as? Bool == false)
        let page = StatusPage(host: host).html()
        #expect(page.contains("NOT READING THE STREAM") && !page.contains("PW") && !page.contains("token=T"))
    }

    @Test("the ingress takes body limits and counts from the host's routes")
    func ingressRoutes() {
        let app = FakeApp(name: "web")
        let host = FakeHost(apps: [], sinks: [:],
                            routes: ["/slack/events": IngressRoute(app: app, kinds: [.events], maxBodyBytes: 1234)])
        let ingress = Ingress(daemon: host, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                              rejections: ListenerRejections(listener: "public", logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
        #expect(ingress.bodyLimit(path: "/slack/events") == 1234)
        #expect(ingress.bodyLimit(path: "/elsewhere") == nil)
        ingress.refusedTooLarge(path: "/slack/events")
        ingress.refusedTooLarge(path: "/elsewhere")
        #expect(app.counted.withLock { $0 } == ["events/too_large"])
    }

    @Test("an app in a cluster: its nodes, slots by node, leader and lease problem, on the page and in status.json")
    func cluster() throws {
        var app = AppSnapshot(name: "shared", state: .running(live: 3, target: 3), ready: true, liveConnections: 3, targetConnections: 3)
        app.cluster = ConnectionShareSnapshot(
            node: "node-a", slots: 9, owners: ["node-a", "node-a", "node-a", "node-b", "node-b", "node-b", nil, nil, nil],
            granted: ConnectionLimit(connections: 3, spare: 1), holdsSpare: true, leader: "node-b",
            problem: "reading <key>: nats://admin:PASS@10.0.0.1:4222 timed out")
        app.cluster?.nodes = ["node-a", "node-b"]
        let host = FakeHost(apps: [app, Self.host(secondReady: true).apps[0]], sinks: [:], routes: [:])
        let html = StatusPage(host: host).html()
        #expect(html.contains("<h2>cluster</h2>"))
        #expect(html.contains("node-a <b>3</b> · node-b <b>3</b>") && html.contains("free 3"))
        #expect(html.contains("holds the refresh spare") && html.contains("&lt;key&gt;") && !html.contains("PASS"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(StatusPage(host: host).json().utf8)) as? [String: Any])
        let apps = try #require(object["apps"] as? [[String: Any]])
        let cluster = try #require(apps[0]["cluster"] as? [String: Any])
        #expect(cluster["slots_by_node"] as? [String: Int] == ["node-a": 3, "node-b": 3])
        #expect(cluster["nodes"] as? [String] == ["node-a", "node-b"] && cluster["leader"] as? String == "node-b")
        #expect(cluster["granted"] as? [String: Int] == ["connections": 3, "spare": 1])
        #expect(apps[1]["cluster"] == nil, "an app outside a cluster has no cluster entry")
        // Without any app in a cluster, no cluster table.
        #expect(!StatusPage(host: Self.host(secondReady: true)).html().contains("<h2>cluster</h2>"))
    }
}
