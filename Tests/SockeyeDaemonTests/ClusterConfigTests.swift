import SockeyeDaemon
import SockeyeSinkKit
import Testing

/// The `cluster:` block and `jetstream` sinks in the configuration file.
@Suite("sockeyed configuration: cluster and jetstream sinks")
struct ClusterConfigTests {
    let environment = ["SLACK_APP_TOKEN": "xapp-1-A1-1-secret", "NATS_PASSWORD": "hunter2"]

    func parse(_ text: String) throws(ConfigError) -> DaemonConfiguration {
        try parseConfig(text, environment: environment)
    }

    func error(_ text: String) -> ConfigError? {
        configError(text, environment: environment)
    }

    private func document(cluster: String?, sink: String) -> String {
        var text = """
            apps:
              - name: a
                app_token: ${SLACK_APP_TOKEN}
                routes:
                  - sinks: events
            sinks:
              events:
            \(sink.split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))

            """
        if let cluster { text += "cluster:\n" + cluster.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n") + "\n" }
        return text
    }

    @Test("a jetstream sink with every setting, and the cluster block")
    func full() throws {
        let config = try parse(document(
            cluster: "nats: [nats://127.0.0.1:4222, \"nats://user:${NATS_PASSWORD}@10.0.0.2:4443\"]\nnode: node-a\nrequest_timeout: 2s",
            sink: "type: jetstream\nstream: SLACK_EVENTS\nsubject_prefix: acme.slack\nmax_age: 3d\nmax_size: 10GiB\n"
                + "duplicate_window: 30m\nreplicas: 3\ntimeout: 1500ms"))
        var expected = JetStreamSettings(stream: "SLACK_EVENTS")
        expected.subjectPrefix = "acme.slack"
        expected.maxAgeSeconds = 3 * 86_400
        expected.maxBytes = 10 << 30
        expected.duplicateWindowSeconds = 1800
        expected.replicas = 3
        expected.publishTimeoutSeconds = 1.5
        #expect(config.sinks["events"] == .jetstream(expected))
        var cluster = ClusterSettings(servers: ["nats://127.0.0.1:4222", "nats://user:hunter2@10.0.0.2:4443"], node: "node-a")
        cluster.requestTimeoutSeconds = 2
        #expect(config.cluster == cluster)
    }

    @Test("defaults: prefix slack, 7 days, 15-minute window, automatic replicas, 2 s")
    func defaults() throws {
        let config = try parse(document(cluster: "nats: nats://127.0.0.1:4222", sink: "type: jetstream\nstream: SLACK"))
        guard case .jetstream(let settings) = config.sinks["events"] else {
            Issue.record("not a jetstream sink")
            return
        }
        #expect(settings == JetStreamSettings(stream: "SLACK"))
        #expect(settings.subjectPrefix == "slack" && settings.duplicateWindowSeconds == 900 && settings.replicas == nil)
        #expect(config.cluster?.node.isEmpty == false)
    }

    @Test("TLS, the lease time, the connection budget and the answer wait are read")
    func clusterOptions() throws {
        let config = try parse(document(
            cluster: "nats: [tls://nats-1.example:4222, tls://nats-2.example:4222]\nca_file: /etc/hostname\nlease_time: 20s\nmax_connections: 6",
            sink: "type: jetstream\nstream: SLACK\nanswer_wait: 2s"))
        let cluster = try #require(config.cluster)
        #expect(cluster.usesTLS && cluster.caFile == "/etc/hostname" && cluster.clientCertificateFile == nil)
        #expect(cluster.leaseTimeSeconds == 20 && cluster.maxConnections == 6)
        guard case .jetstream(let settings) = config.sinks["events"] else {
            Issue.record("not a jetstream sink")
            return
        }
        #expect(settings.answerWaitSeconds == 2)
    }

    @Test("mistakes are refused with the key and what to write")
    func mistakes() {
        let sink = "type: jetstream\nstream: SLACK"
        #expect(error(document(cluster: nil, sink: sink))?.description.contains("cluster:") == true)
        #expect(error(document(cluster: "node: a", sink: sink))?.key == "cluster.nats")
        #expect(error(document(cluster: "nats: http://127.0.0.1:4222", sink: sink))?.key == "cluster.nats[0]")
        #expect(error(document(cluster: "nats: tls://127.0.0.1:4222\nca_file: /nonexistent/ca.pem", sink: sink))?.key == "cluster.ca_file")
        #expect(error(document(cluster: "nats: tls://127.0.0.1:4222\nclient_cert: /etc/hostname", sink: sink))?.key == "cluster.client_cert")
        #expect(error(document(cluster: "nats: nats://127.0.0.1:4222\nlease_time: 1s", sink: sink))?.key == "cluster.lease_time")
        #expect(error(document(cluster: "nats: nats://127.0.0.1:4222\nmax_connections: 11", sink: sink))?.key == "cluster.max_connections")
        #expect(error(document(cluster: "nats: nats://127.0.0.1:4222", sink: sink + "\nanswer_wait: 3s"))?.key == "sinks.events.answer_wait")
        #expect(error(document(cluster: "nats: nats://127.0.0.1:99999", sink: sink))?.key == "cluster.nats[0]")
        #expect(error(document(cluster: "nats: nats://127.0.0.1:4222/path", sink: sink))?.key == "cluster.nats[0]")
        #expect(error(document(cluster: "nats: nats://127.0.0.1:4222\nnode: a.b", sink: sink))?.key == "cluster.node")
        let cluster = "nats: nats://127.0.0.1:4222"
        #expect(error(document(cluster: cluster, sink: "type: jetstream"))?.key == "sinks.events.stream")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: a.b"))?.key == "sinks.events.stream")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: S\nsubject_prefix: slack.>"))?.key == "sinks.events.subject_prefix")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: S\nreplicas: 7"))?.key == "sinks.events.replicas")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: S\ntimeout: 5s"))?.key == "sinks.events.timeout")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: S\nduplicate_window: 1s"))?.key == "sinks.events.duplicate_window")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: S\nmax_age: 5m"))?.key == "sinks.events.max_age")
        #expect(error(document(cluster: cluster, sink: "type: jetstream\nstream: S\npath: x"))?.key == "sinks.events.path")
        #expect(error(document(cluster: cluster, sink: "type: file\npath: x\nstream: S"))?.key == "sinks.events.stream")
    }

    @Test("a password in a server URL never reaches an error")
    func passwordNotRepeated() {
        let text = document(cluster: "nats: \"ftp://user:${NATS_PASSWORD}@127.0.0.1:4222\"", sink: "type: jetstream\nstream: S")
        let description = error(text)?.description ?? ""
        #expect(!description.isEmpty)
        #expect(!description.contains("hunter2"))
    }

    @Test("workers: routes to sinks, defaults and every setting")
    func workers() throws {
        let config = try parse("""
            sinks:
              archive: {type: file, path: /tmp/archive.jsonl}
            cluster:
              nats: nats://127.0.0.1:4222
            workers:
              - name: archive
                stream: SLACK
                routes: [{sinks: [archive]}]
              - name: pager
                stream: SLACK
                filter: slack.*.events_api.app_mention
                durable: pager_v2
                max_deliver: 3
                backoff: [500ms, 5s]
                ack_wait: 1m
                batch: 32
                routes: [{sinks: [archive]}]
            """)
        #expect(config.apps.isEmpty)
        #expect(config.workers.count == 2)
        let first = config.workers[0]
        #expect(first.durable == "archive" && first.filter == "slack.>" && first.maxDeliver == 5 && first.backoffSeconds == [1, 10, 60])
        let second = config.workers[1]
        #expect(second.filter == "slack.*.events_api.app_mention" && second.durable == "pager_v2")
        #expect(second.maxDeliver == 3 && second.backoffSeconds == [0.5, 5] && second.ackWaitSeconds == 60 && second.batch == 32)
    }

    @Test("worker mistakes are refused with the key")
    func workerMistakes() {
        func worker(_ body: String, cluster: Bool = true) -> ConfigError? {
            error("""
                sinks:
                  archive: {type: file, path: /tmp/archive.jsonl}
                \(cluster ? "cluster: {nats: nats://127.0.0.1:4222}" : "")
                workers:
                  - \(body.split(separator: "\n").joined(separator: "\n    "))
                """)
        }
        let routes = "routes: [{sinks: [archive]}]"
        #expect(worker("name: w\nstream: SLACK\n\(routes)", cluster: false)?.description.contains("cluster:") == true)
        #expect(worker("stream: SLACK\n\(routes)")?.key == "workers[0].name")
        #expect(worker("name: w\n\(routes)")?.key == "workers[0].stream")
        #expect(worker("name: w\nstream: SLACK")?.key == "workers[0].routes")
        #expect(worker("name: w\nstream: SLACK\nroutes: [{sinks: [nope]}]")?.key == "workers[0].routes[0].sinks")
        #expect(worker("name: w\nstream: SLACK\nfilter: slack.>.x\n\(routes)")?.key == "workers[0].filter")
        #expect(worker("name: w\nstream: SLACK\nmax_deliver: 0\n\(routes)")?.key == "workers[0].max_deliver")
        #expect(worker("name: w\nstream: SLACK\nbackoff: [1s, forever]\n\(routes)")?.key == "workers[0].backoff[1]")
        #expect(worker("name: w\nstream: SLACK\nbatch: 100000\n\(routes)")?.key == "workers[0].batch")
        #expect(worker("name: w:1\nstream: SLACK\n\(routes)")?.key == "workers[0].durable")
    }
}
