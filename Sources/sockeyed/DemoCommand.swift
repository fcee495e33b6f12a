import ArgumentParser
import Foundation
import Logging
import SockeyeDaemon
import SockeyeDemo
import SockeyeOperations

/// `sockeyed demo`: a short run against an embedded Slack simulator, with live counts, the
/// status page and, at the end, what was written where. Explicit, so that `sockeyed run`
/// without a configuration fails instead of running it.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run a short demo: an embedded Slack simulator sends a mix of events, sockeyed writes them to a file.",
        discussion: """
            The events go to a JSON-lines file in a new private directory under the temporary \
            directory; the status page and metrics are on the operations listener while it runs.
            """)

    @Option(name: .long, help: "How long the demo runs, in seconds (1–3600).")
    var seconds = 12

    @Option(name: .long, help: "Envelopes per second the demo's simulator sends (1–100000).")
    var rate = 500

    @Option(name: .long, help: "Where the demo's operations listener binds (host:port; port 0 picks a free one).")
    var operations = "127.0.0.1:0"

    @Option(name: .long, help: "Seconds each sample of the status page's charts covers (0.1–60; the charts show 360: 10 is the last hour).")
    var historyInterval = Double(DaemonConfiguration.defaultHistoryIntervalMilliseconds) / 1000

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        guard Demo.secondsRange.contains(seconds) else { throw ValidationError("--seconds: from 1 to 3600") }
        guard Demo.rateRange.contains(rate) else { throw ValidationError("--rate: from 1 to 100000") }
        guard (0.1...60).contains(historyInterval) else { throw ValidationError("--history-interval: from 0.1 to 60") }
    }

    func run() async throws {
        let setup = try logging.bootstrap(environment: ProcessInfo.processInfo.environment)
        let logger = setup.logger
        let metrics = MetricsExport.bootstrap()
        let demo: Demo
        let daemon: Daemon
        let server: OperationsServer
        do {
            demo = try Demo(rate: rate, seconds: seconds)
            var configuration = demo.configuration
            configuration.historyInterval = .milliseconds(Int64((historyInterval * 1000).rounded()))
            daemon = try Daemon(configuration: configuration, logger: logger)
            server = try OperationsServer(address: operations, daemon: daemon, metrics: metrics, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("sockeyed: \(error)\n".utf8))
            throw ExitCode(2)
        }
        FileHandle.standardError.write(Data(
            "sockeyed: a \(seconds) s demo against an embedded Slack simulator at \(demo.simulator.apiBaseURL)\n".utf8))
        let announce = Task {
            while server.port == nil, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
            if let port = server.port {
                FileHandle.standardError.write(Data("sockeyed: status page at http://127.0.0.1:\(port)/ (metrics at /metrics)\n".utf8))
            }
        }
        defer { announce.cancel() }
        // The live view: on a terminal (or with --status-line).
        let statusLine = setup.statusLine ? [daemon.statusLine(label: "demo")] : []
        try await daemon.run(extraServices: [demo.loadService, server.service] + statusLine, shutdownAfter: demo.duration)
        FileHandle.standardError.write(Data(demo.summary().utf8))
        demo.simulator.stop()
    }
}
