import Foundation
import SockeyeSim
import SockeyeSinkKit
import Testing
@testable import SockeyeDaemon

/// The history as the daemon keeps it: filled by the app's sampler and ack path, kept across
/// the app's restart (the restart a gap in it), and dropped for an app a reload removes.
@Suite("app history in the daemon", .serialized)
struct AppHistoryDaemonTests {
    func configuration(_ sim: SimServer) -> DaemonConfiguration {
        var app = AppSettings(name: "charted", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.poolSize = 1
        app.routes = [Route(sinks: ["null"])]
        var configuration = DaemonConfiguration(apps: [app], sinks: ["null": .file(path: "/dev/null")], operationsAddress: nil)
        configuration.historyInterval = .milliseconds(200)
        return configuration
    }

    /// The app's history as the status page would read it now.
    func history(_ daemon: Daemon) -> AppHistory? {
        daemon.appSnapshots().first?.history
    }

    @Test("acked events fill the history (events/s, a p99, live connections); a restart keeps it, with a gap, not zeros")
    func restartKeepsHistory() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let daemon = try Daemon(configuration: configuration(sim), logger: quietLogger)
        let running = Task { try await daemon.run() }
        let first = try #require(daemon.runners.first)
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 20)
        #expect(await eventually { first.counters.snapshot.acked == 20 })
        // The interval the acks fell in closes: it has events, a p99 and the live connection.
        #expect(await eventually {
            history(daemon)?.samples.contains { ($0?.eventsPerSecond ?? 0) > 0 && $0?.ackP99Nanoseconds != nil } == true
        }, "\(String(describing: history(daemon)?.samples.suffix(10)))")
        #expect(history(daemon)?.intervalMilliseconds == 200 && history(daemon)?.samples.count == HistoryRing.capacity)
        #expect(await eventually { history(daemon)?.latest?.liveConnections == 1 && history(daemon)?.latest?.wantedConnections == 1 })

        // Stopped behind the daemon's back: restarted after a backoff of at least 1 s (5 intervals).
        await first.stop()
        #expect(await eventually { daemon.runners.first !== first })
        let second = try #require(daemon.runners.first)
        #expect(second.history === first.history)
        #expect(await eventually { second.clientStats.liveConnections == 1 && history(daemon)?.latest?.liveConnections == 1 })
        let samples = try #require(history(daemon)?.samples)
        let busy = try #require(samples.lastIndex { ($0?.eventsPerSecond ?? 0) > 0 })  // the first instance's acks, still there
        let resumed = try #require(samples.lastIndex { $0 == nil })  // the newest interval without a sample
        #expect(resumed > busy, "the restart's gap follows the first instance's samples")
        let gap = samples[busy...].firstIndex { $0 == nil }.map { samples[$0...].prefix { $0 == nil }.count } ?? 0
        #expect(gap >= 3, "a gap of \(gap) intervals: \(samples.suffix(40).map { $0 == nil ? "_" : "x" }.joined())")

        // A reload that removes the app drops its history; one that brings it back starts afresh.
        var without = configuration(sim)
        without.apps[0].enabled = false
        try await daemon.reload(without)
        try await daemon.reload(configuration(sim))
        let third = try #require(daemon.runners.first)
        #expect(third.history !== first.history)
        await daemon.stop()
        try await running.value
    }
}
