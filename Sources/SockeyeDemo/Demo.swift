import Foundation
import ServiceLifecycle
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit

/// What `sockeyed demo` runs: an embedded simulator of Slack on 127.0.0.1, one app connected
/// to it whose events (a mix of messages, mentions, reactions, slash commands and
/// interactive payloads, at a steady rate) go to a JSON-lines file in a fresh private
/// directory (mode 0700, the file 0600).
public final class Demo: Sendable {
    public let simulator: SimServer
    public let configuration: DaemonConfiguration
    /// Where the demo's events are written, in `directory`.
    public let outputPath: String
    /// The demo's own directory (mode 0700), left in place for the events file.
    public let directory: String
    let rate: Double
    let seconds: Int

    /// The longest demo, and the highest rate, the options take.
    public static let secondsRange = 1...3600
    public static let rateRange = 1...100_000

    /// Starts the simulator (nothing is sent until `LoadService` sees a live connection).
    /// The events file goes into a new directory made under `parentDirectory` with a name
    /// no one can guess beforehand, so no other user can plant or read it.
    public init(rate: Int = 500, seconds: Int = 12, parentDirectory: String = NSTemporaryDirectory()) throws {
        guard Self.rateRange.contains(rate), Self.secondsRange.contains(seconds) else {
            throw SinkError("the demo takes a rate from \(Self.rateRange.lowerBound) to \(Self.rateRange.upperBound) events/s "
                            + "and \(Self.secondsRange.lowerBound) to \(Self.secondsRange.upperBound) seconds")
        }
        var template = Array(((parentDirectory as NSString).appendingPathComponent("sockeyed-demo-XXXXXX")).utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in mkdtemp(buffer.baseAddress!).map { String(cString: $0) } }
        guard let made else {
            throw SinkError("the demo cannot make its directory in \(parentDirectory): \(String(cString: strerror(errno)))")
        }
        directory = made
        var options = SimServer.Options()
        options.config.pingInterval = 2
        simulator = try SimServer(options)
        self.rate = Double(rate)
        self.seconds = seconds
        outputPath = (directory as NSString).appendingPathComponent("events.jsonl")
        var app = AppSettings(name: "demo", appToken: options.config.apps[0].appTokens[0], apiURL: simulator.apiBaseURL)
        app.poolSize = 2
        app.routes = [Route(sinks: ["demo-file"])]
        configuration = DaemonConfiguration(apps: [app], sinks: ["demo-file": .file(path: outputPath)], operationsAddress: nil)
    }

    /// How long the demo runs before it stops by itself.
    public var duration: Duration { .seconds(seconds) }

    /// Starts the simulator's load once the app is connected.
    public var loadService: any Service { LoadService(simulator: simulator, rate: rate, seconds: seconds) }

    /// One paragraph for the end: what was written where, and the simulator's accounting.
    public func summary() -> String {
        let report = simulator.report()
        let lines = (try? String(contentsOfFile: outputPath, encoding: .utf8))?.split(separator: "\n") ?? []
        var text = "demo: \(lines.count) events written to \(outputPath)\n"
        if let first = lines.first { text += "first line: \(first.prefix(400))\(first.count > 400 ? "…" : "")\n" }
        text += "simulator: delivered \(report.total.delivered), acked \(report.total.acked), lost \(report.lost), "
            + "unknown acks \(report.total.unknownAcks), failed after retries \(report.total.failedAfterRetries)\n"
        text += "With SLACK_APP_TOKEN=xapp-… (or --config FILE), `sockeyed run` connects to Slack instead.\n"
        return text
    }

    struct LoadService: Service {
        let simulator: SimServer
        let rate: Double
        let seconds: Int

        func run() async throws {
            await cancelWhenGracefulShutdown {
                while simulator.liveConnections(app: 0) == 0, !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(50))
                }
                guard !Task.isCancelled else { return }
                let kinds = ["message", "app_mention", "reaction_added", "message", "slash_command", "block_actions"]
                let total = Int(rate) * max(1, seconds - 2)
                _ = simulator.startLoad(LoadSpec(rate: rate, total: total, kinds: kinds))
            }
        }
    }
}
