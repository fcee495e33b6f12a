import Foundation
import SockeyeSinkKit

/// The apps' recent past: three small charts per app on the status page (events/s, ack
/// latency p99, live connections against those wanted), arrays in `/status.json`.
extension StatusPage {
    /// The most apps charted on the page, in configuration order (a few KB each; the page
    /// reloads every 2 s). `/status.json` has every app's history.
    static let chartedApps = 20
    /// Slack's deadline for an ack: the p99 chart's reference line.
    static let slackAckDeadline = 3.0
    /// The p99 chart's logarithmic range, in seconds: 0.1 ms to 10 s.
    static let latencyRange = (bottom: 1e-4, top: 10.0)

    /// `/status.json`'s `history` for one app: parallel arrays from the oldest interval with
    /// a sample (leading intervals before the app's first sample are left out), each
    /// interval's end in `timestamps`, null where the app took no sample (and in
    /// `ack_p99_seconds` also where nothing was acked).
    static func historyJSON(_ history: AppHistory) -> [String: Any] {
        let first = history.samples.firstIndex { $0 != nil } ?? history.samples.count
        let indices = first..<history.samples.count
        func values(_ value: (AppHistory.Sample) -> Any?) -> [Any] {
            indices.map { index in history.samples[index].flatMap(value) ?? NSNull() }
        }
        return [
            "interval_seconds": Double(history.intervalMilliseconds) / 1000,
            "timestamps": indices.map { Double(history.endMilliseconds(ofSample: $0)) / 1000 },
            "events_per_second": values { ($0.eventsPerSecond * 100).rounded() / 100 },
            "ack_p99_seconds": values { $0.ackP99Nanoseconds.map { Double($0) / 1e9 } },
            "connections_live": values { $0.liveConnections },
            "connections_wanted": values { $0.wantedConnections },
        ]
    }

    /// The charts section: a row per app with a history, the first `chartedApps` of them;
    /// empty when no app has one.
    func historySection(_ apps: [AppView]) -> String {
        let charted = apps.filter { $0.history != nil }
        guard let span = charted.first?.history?.spanMilliseconds else { return "" }
        var rows = ""
        for app in charted.prefix(Self.chartedApps) {
            guard let history = app.history else { continue }
            let healthy = app.state.isHealthy(liveConnections: app.live)
            let charts = Self.charts(app, history)
            rows += """
                <tr class="\(healthy ? "ok" : "bad")"><td class=name>\(escape(app.name))</td>\
                <td><div class=caption>events/s <b>\(escape(Self.rate(app.rate)))</b></div>\(charts.events)</td>\
                <td><div class=caption>ack p99 <b>\(escape(charts.latestP99))</b></div>\(charts.latency)</td>\
                <td><div class=caption>connections <b>\(app.live) / \(app.wanted)</b></div>\(charts.connections)</td></tr>

                """
        }
        let more = charted.count > Self.chartedApps
            ? "<p class=muted>Charts for the first \(Self.chartedApps) apps of \(charted.count); "
                + "<a href=\"/status.json\">status.json</a> has every app's history.</p>"
            : ""
        return """
            <h2>last \(Self.duration(span))</h2>
            <table class=history><thead><tr><th>app</th><th>events per second</th><th>ack latency p99 (log scale)</th>\
            <th>live connections (fewest per interval) and wanted (dashed)</th></tr></thead>
            <tbody>
            \(rows)</tbody></table>
            \(more)
            """
    }

    /// One app's three charts, and its latest p99 as text.
    static func charts(_ app: AppView, _ history: AppHistory) -> (events: String, latency: String, connections: String, latestP99: String) {
        let span = history.spanMilliseconds
        let axis = ("−\(duration(span))", "−\(duration(span / 2))", "now")
        let period = "last \(duration(span))"

        let rates = history.samples.map { $0?.eventsPerSecond }
        let maxRate = rates.compactMap { $0 }.filter(\.isFinite).max() ?? 0
        let events = HistoryChart(
            title: "\(app.name): events per second over the \(period); now \(rate(app.rate)), max \(rate(maxRate))",
            scale: .linear(top: max(maxRate * 1.1, 1)),
            series: [.init(values: rates, style: .line, color: "#2f6fd0", filled: true)],
            note: "max \(rate(maxRate))/s", axis: axis)

        let latencies = history.samples.map { sample in sample?.ackP99Nanoseconds.map { Double($0) / 1e9 } }
        let maxLatency = latencies.compactMap { $0 }.max()
        // The newest of the last three intervals' (the newest may be closing as the page is read).
        let latestP99 = history.samples.suffix(3).reversed().lazy.compactMap { $0?.ackP99Nanoseconds }.first
            .map { seconds(Double($0) / 1e9) } ?? "–"
        let latency = HistoryChart(
            title: "\(app.name): ack latency p99 over the \(period); now \(latestP99), max \(maxLatency.map(seconds) ?? "none")",
            scale: .logarithmic(bottom: latencyRange.bottom, top: latencyRange.top),
            series: [.init(values: latencies, style: .line, color: "#b0560a")],
            rules: [.init(value: slackAckDeadline, label: "3 s: Slack's limit", color: "#d23c3c")],
            gridlines: [(1e-3, "1 ms"), (1e-2, "10 ms"), (1e-1, "100 ms"), (1, "")],
            note: maxLatency.map { "max \(seconds($0))" } ?? "no acks",
            axis: axis)

        let live = history.samples.map { $0.map { Double($0.liveConnections) } }
        let wanted = history.samples.map { $0.map { Double($0.wantedConnections) } }
        let most = (live + wanted).compactMap { $0 }.max() ?? 0
        let connections = HistoryChart(
            title: "\(app.name): live connections (fewest in each interval) and wanted over the \(period); now \(app.live) of \(app.wanted)",
            scale: .linear(top: max(1, most + 1)),
            series: [.init(values: wanted, style: .step, color: "#777", dashed: true),
                     .init(values: live, style: .step, color: "#2e9d4c", filled: true)],
            note: "max \(Int(most))", axis: axis)
        return (events.svg(), latency.svg(), connections.svg(), latestP99)
    }

    /// "60 min", "6 min", "36 s".
    static func duration(_ milliseconds: Int64) -> String {
        milliseconds >= 120_000 ? "\((milliseconds + 30_000) / 60_000) min" : "\((milliseconds + 500) / 1000) s"
    }

    /// An event rate: whole above 10, one decimal below.
    static func rate(_ perSecond: Double) -> String {
        guard perSecond.isFinite else { return "–" }
        return perSecond >= 10 ? String(format: "%.0f", perSecond) : String(format: "%.1f", perSecond)
    }

    /// A latency: "98 µs", "1.6 ms", "131 ms", "2.1 s".
    static func seconds(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        switch value {
        case ..<1e-3: return String(format: "%.0f µs", value * 1e6)
        case ..<1e-2: return String(format: "%.1f ms", value * 1e3)
        case ..<1: return String(format: "%.0f ms", value * 1e3)
        default: return String(format: "%.1f s", value)
        }
    }
}
