import ArgumentParser
import Foundation
import Sockeye
import SockeyeDaemon
import SockeyeJetStream

/// `sockeyed check`: what Slack says about each configured app, before running it.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Ask Slack about each configured app: its token, Socket Mode, the bot and its scopes, other processes on the app.",
        discussion: """
            For each app: a dry apps.connections.open with the app token; with bot_token, auth.test \
            (workspace, bot user and bot ids, scopes the routes need that the token lacks); and a \
            short probe connection whose hello tells whether another process holds connections \
            for the app (it would silently take a share of the events). Events delivered to the \
            probe are nacked, so Slack redelivers them; with a `cluster:` block there is no \
            probe (the nodes share the app's connections). For each jetstream sink the apps use: \
            whether a NATS server of `cluster:` answers, and what the daemon would do to the \
            stream (nothing is changed). Exit status 1 when something needs fixing.
            """)

    @Option(name: .long, help: "The YAML configuration file (default: $SOCKEYE_CONFIG; else SLACK_APP_TOKEN).")
    var config: String?

    @Option(name: .long, help: "Check only this app.")
    var app: String?

    @Option(name: .long, help: "Seconds the probe connection may take to reach hello (1–600).")
    var probeSeconds = 5

    func validate() throws {
        guard (1...600).contains(probeSeconds) else { throw ValidationError("--probe-seconds: from 1 to 600") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: DaemonConfiguration
        do {
            if let path = config ?? environment["SOCKEYE_CONFIG"] {
                configuration = try ConfigLoader.load(path: path, environment: environment)
            } else if let fromEnvironment = try ConfigLoader.environment(environment) {
                configuration = fromEnvironment
            } else {
                FileHandle.standardError.write(Data("sockeyed: nothing to check: give --config FILE or set SLACK_APP_TOKEN\n".utf8))
                throw ExitCode(2)
            }
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("sockeyed: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let apps = configuration.apps.filter { app == nil || $0.name == app }
        guard !apps.isEmpty else {
            FileHandle.standardError.write(Data("sockeyed: no app named \"\(app ?? "")\"\n".utf8))
            throw ExitCode(2)
        }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        var failed = false
        for settings in apps {
            // In a cluster the nodes share the app's connections: no probe of our own.
            let probe: Duration? = configuration.cluster == nil ? .seconds(probeSeconds) : nil
            let check = await AppCheck.run(settings, runtime: runtime, probe: probe, environment: environment)
            print("\(settings.name)\(settings.enabled ? "" : " (disabled)"):")
            for finding in check.findings { print("  \(finding.ok ? "ok  " : "FIX ") \(finding.text)") }
            failed = failed || !check.passed
        }
        let used = Set(apps.filter(\.enabled).flatMap { $0.routes.flatMap(\.sinks) })
        for (name, settings) in configuration.sinks.sorted(by: { $0.key < $1.key }) where used.contains(name) {
            guard case .jetstream(let jetStream) = settings, let cluster = configuration.cluster else { continue }
            print("sink \(name) (jetstream):")
            for finding in await JetStreamCheck.run(settings: jetStream, cluster: cluster) {
                print("  \(finding.ok ? "ok  " : "FIX ") \(finding.text)")
                failed = failed || !finding.ok
            }
        }
        if failed { throw ExitCode(1) }
    }
}
