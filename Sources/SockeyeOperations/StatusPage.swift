import Foundation
import SockeyeCore
import SockeyeSinkKit

/// Renders the status page and its JSON twin from the host's live state (the daemon's).
struct StatusPage: Sendable {
    let host: any OperationsHost
    let started = Date()

    struct AppView {
        let name: String
        let state: AppState
        let live: Int
        let wanted: Int
        let received: Int
        let acked: Int
        let nacked: Int
        let unrouted: Int
        let deduplicated: Int
        let reconnects: Int
        let rate: Double
        let lastRefresh: String
        let errors: [String]
        let cluster: ConnectionShareSnapshot?
        let history: AppHistory?
    }

    func views() -> [AppView] {
        let stamp = ISO8601DateFormatter()
        return host.appSnapshots().map { app in
            let refresh = app.lastRefresh.map { "\(stamp.string(from: $0.at)) (\($0.reason))" } ?? "none yet"
            return AppView(
                name: app.name, state: app.state, live: app.liveConnections, wanted: app.targetConnections,
                received: app.received, acked: app.acked, nacked: app.nacked, unrouted: app.unrouted,
                deduplicated: app.deduplicated, reconnects: app.reconnects, rate: app.eventsPerSecond,
                lastRefresh: refresh, errors: app.recentErrors.map { "\(stamp.string(from: $0.at)) \(URLRedaction.urls(in: $0.message))" },
                cluster: app.cluster, history: app.history)
        }
    }

    struct SinkView {
        let name: String
        let health: SinkHealth
        var healthy: Bool { health.problem == nil }
    }

    /// The sinks' health, with any URL in it cut to scheme, host and path: sinks show no
    /// arguments or credentials themselves, and this holds whatever an error message says.
    /// Workers follow, named `worker <name>`.
    func sinkViews() -> [SinkView] {
        func view(_ name: String, _ health: SinkHealth) -> SinkView {
            var health = health
            health.problem = health.problem.map(URLRedaction.urls(in:))
            health.figures = health.figures.map { ($0.0, URLRedaction.urls(in: $0.1)) }
            return SinkView(name: name, health: health)
        }
        let sinks = host.sinks.map { view($0.key, $0.value.health) }.sorted { $0.name < $1.name }
        let workers = host.workerHealth.map { view("worker \($0.key)", $0.value) }.sorted { $0.name < $1.name }
        return sinks + workers
    }

    /// Enabled apps without a live connection (disabled ones count as not ready).
    func appsNotReady() -> [String] {
        host.appSnapshots().filter { !$0.ready }.map(\.name)
    }

    func json() -> String {
        let apps: [[String: Any]] = views().map {
            ["name": $0.name, "state": $0.state.description, "connections": ["live": $0.live, "wanted": $0.wanted],
             "events": ["received": $0.received, "acked": $0.acked, "nacked": $0.nacked, "unrouted": $0.unrouted,
                        "deduplicated": $0.deduplicated, "per_second": $0.rate],
             "reconnects": $0.reconnects, "last_refresh": $0.lastRefresh, "recent_errors": $0.errors]
                .merging($0.cluster.map { ["cluster": Self.clusterJSON($0)] } ?? [:]) { _, new in new }
                .merging($0.history.map { ["history": Self.historyJSON($0)] } ?? [:]) { _, new in new }
        }
        let stamp = ISO8601DateFormatter()
        let sinks: [[String: Any]] = sinkViews().map { sink in
            var entry: [String: Any] = ["name": sink.name, "kind": sink.health.kind, "ok": sink.healthy,
                                        "figures": Dictionary(sink.health.figures, uniquingKeysWith: { _, last in last })]
            if let problem = sink.health.problem { entry["problem"] = problem }
            if let since = sink.health.since { entry["failing_since"] = stamp.string(from: since) }
            return entry
        }
        var object: [String: Any] = ["uptime_seconds": Int(Date().timeIntervalSince(started)), "ready": appsNotReady().isEmpty,
                                     "apps": apps, "sinks": sinks]
        let installations = host.installationSnapshots()
        if !installations.isEmpty { object["installations"] = installationsJSON(installations) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// An app's share of the cluster's connections, for `/status.json`.
    static func clusterJSON(_ share: ConnectionShareSnapshot) -> [String: Any] {
        var entry: [String: Any] = [
            "node": share.node, "nodes": share.nodes, "slots": share.slots, "slots_by_node": share.slotsByNode,
            "granted": ["connections": share.granted.connections, "spare": share.granted.spare],
            "holds_spare": share.holdsSpare,
        ]
        if let leader = share.leader { entry["leader"] = leader }
        if let openAfter = share.openAfter, openAfter > Date().timeIntervalSince1970 {
            entry["backing_off_until"] = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: openAfter))
        }
        if let problem = share.problem { entry["problem"] = URLRedaction.urls(in: problem) }
        return entry
    }

    /// The cluster table's rows (empty when no app shares its connections).
    func clusterRows(_ apps: [AppView]) -> String {
        var rows = ""
        for app in apps {
            guard let share = app.cluster else { continue }
            let byNode = share.slotsByNode.sorted { $0.key < $1.key }
                .map { "\(escape($0.key)) <b>\($0.value)</b>" }.joined(separator: " · ")
            let free = share.slots - share.slotsByNode.values.reduce(0, +)
            var notes: [String] = []
            if share.holdsSpare { notes.append("holds the refresh spare") }
            if let openAfter = share.openAfter, openAfter > Date().timeIntervalSince1970 {
                notes.append("backing off until \(ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: openAfter)))")
            }
            if let problem = share.problem { notes.append("<span class=alarm>\(escape(URLRedaction.urls(in: problem)))</span>") }
            rows += """
                <tr class="\(share.problem == nil ? "ok" : "bad")"><td class=name>\(escape(app.name))</td><td>\(escape(share.node))</td>\
                <td>\(share.nodes.map(escape).joined(separator: ", "))</td>\
                <td class=num>\(share.granted.connections)</td><td>\(byNode.isEmpty ? "<span class=muted>none</span>" : byNode)\
                \(free > 0 ? " · <span class=muted>free \(free)</span>" : "")</td><td>\(escape(share.leader ?? "-"))</td>\
                <td>\(notes.isEmpty ? "<span class=muted>-</span>" : notes.joined(separator: "<br>"))</td></tr>

                """
        }
        return rows
    }

    func html() -> String {
        let apps = views()
        let clusterRows = clusterRows(apps)
        let clusterTable = clusterRows.isEmpty ? "" : """
            <h2>cluster</h2>
            <table><thead><tr><th>app</th><th>this node</th><th>nodes</th><th>its connections</th><th>slots by node</th><th>leader</th>\
            <th>notes</th></tr></thead>
            <tbody>
            \(clusterRows)</tbody></table>
            """
        let ready = appsNotReady().isEmpty
        var rows = ""
        for app in apps {
            let healthy = app.state.isHealthy(liveConnections: app.live)
            let errors = app.errors.isEmpty ? "<span class=muted>none</span>" : app.errors.map(escape).joined(separator: "<br>")
            rows += """
                <tr class="\(healthy ? "ok" : "bad")"><td class=name>\(escape(app.name))</td><td>\(escape(app.state.description))</td>\
                <td class=num>\(app.live) / \(app.wanted)</td><td class=num>\(String(format: "%.0f", app.rate))</td>\
                <td class=num>\(app.received)</td><td class=num>\(app.acked)</td><td class=num>\(app.nacked)</td>\
                <td class=num>\(app.unrouted)</td><td class=num>\(app.deduplicated)</td><td class=num>\(app.reconnects)</td>\
                <td>\(escape(app.lastRefresh))</td><td class=errors>\(errors)</td></tr>

                """
        }
        let stamp = ISO8601DateFormatter()
        let sinks = sinkViews()
        var sinkRows = ""
        for sink in sinks {
            let figures = sink.health.figures.map { "\(escape($0.0)) <b>\(escape($0.1))</b>" }.joined(separator: " · ")
            let state: String
            if let problem = sink.health.problem {
                let since = sink.health.since.map { " since \(stamp.string(from: $0))" } ?? ""
                state = sink.health.kind == "worker"
                    ? "<span class=alarm>NOT READING THE STREAM\(since)</span> (events wait in it): \(escape(problem))"
                    : "<span class=alarm>REFUSING EVENTS\(since)</span> (nacked, Slack redelivers): \(escape(problem))"
            } else {
                state = "ok"
            }
            sinkRows += """
                <tr class="\(sink.healthy ? "ok" : "bad")"><td class=name>\(escape(sink.name))</td><td>\(escape(sink.health.kind))</td>\
                <td>\(state)</td><td>\(figures)</td></tr>

                """
        }
        let failingSinks = sinks.filter { !$0.healthy }.map(\.name)
        let banner = failingSinks.isEmpty ? "" : """
            <p class=banner>Sink\(failingSinks.count == 1 ? "" : "s") \(failingSinks.map(escape).joined(separator: ", ")) \
            refusing events: they are nacked and Slack redelivers them. See below.</p>
            """
        let uptime = Int(Date().timeIntervalSince(started))
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="2">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>sockeyed — \(apps.count) app\(apps.count == 1 ? "" : "s"), \(ready ? "ready" : "not ready")</title>
            <style>
            body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #1d1d1f; }
            h1 { font-size: 1.3em; margin: 0 0 .2em; } .muted { color: #777; }
            table { border-collapse: collapse; margin-top: 1em; width: 100%; }
            th, td { padding: .35em .6em; border-bottom: 1px solid #ddd; text-align: left; vertical-align: top; }
            th { background: #f4f4f6; font-weight: 600; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
            tr.ok td.name { border-left: 4px solid #2e9d4c; } tr.bad td.name { border-left: 4px solid #d23c3c; }
            td.errors { font-size: .85em; color: #8a1f1f; max-width: 28em; }
            .alarm { color: #fff; background: #d23c3c; padding: 0 .3em; font-weight: 600; }
            .banner { background: #fde8e8; border: 1px solid #d23c3c; padding: .6em .8em; font-weight: 600; }
            h2 { font-size: 1.1em; margin: 1.4em 0 0; }
            table.history td { padding: .3em .6em .1em; } table.history svg { display: block; }
            .caption { font-size: .85em; color: #555; } .caption b { color: #1d1d1f; font-size: 1.15em; }
            .badge { display: inline-block; padding: .1em .5em; border-radius: .6em; color: #fff; background: \(ready ? "#2e9d4c" : "#d23c3c"); }
            </style></head><body>
            <h1>sockeyed <span class=badge>\(ready ? "ready" : "not ready")</span></h1>
            <div class=muted>up \(uptime / 3600) h \(uptime / 60 % 60) min \(uptime % 60) s · refreshes every 2 s ·
            <a href="/metrics">metrics</a> · <a href="/status.json">status.json</a> · <a href="/readyz">readyz</a></div>
            \(banner)
            <h2>apps</h2>
            <table><thead><tr><th>app</th><th>state</th><th>connections</th><th>events/s</th><th>received</th><th>acked</th>
            <th>nacked</th><th>unrouted</th><th>de-duplicated</th><th>reconnects</th><th>last refresh</th><th>recent errors</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            \(historySection(apps))
            \(clusterTable)
            \(installationsTable(host.installationSnapshots()))
            <h2>sinks</h2>
            <table><thead><tr><th>sink</th><th>kind</th><th>state</th><th>figures</th></tr></thead>
            <tbody>
            \(sinkRows)</tbody></table>
            </body></html>

            """
    }

    func escape(_ text: String) -> String {
        Self.escaped(text)
    }

    /// `text` for HTML or XML text and double-quoted attributes (`<`, `>`, `&`, `"` escaped).
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
