// sockeyed: runs Slack apps over Socket Mode and hands their events to sinks.
//
//   sockeyed run                          # no token, no config: a demo against an embedded simulator
//   sockeyed run --config sockeyed.yaml   # the apps of a config file
//   SLACK_APP_TOKEN=xapp-… sockeyed run   # one app, every event as a JSON line on stdout
//   sockeyed run --config FILE --check-config
//
// Exit status: 0 after a clean stop (SIGTERM, SIGINT, or the demo's end), 2 for a
// configuration error, 1 for anything else.
import ArgumentParser
import Foundation
import Logging
import SockeyeBridge
import SockeyeDaemon
import SockeyeSpool
import SockeyeOperations

@main
struct Sockeyed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockeyed",
        abstract: "Runs Slack apps over Socket Mode and hands their events to sinks.",
        subcommands: [Run.self, CheckCommand.self, SpoolCommand.self, ManifestCommand.self],
        defaultSubcommand: Run.self
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect every configured app and deliver its events until SIGTERM or SIGINT.",
        discussion: """
            The configuration comes from --config (or SOCKEYE_CONFIG); without one, from \
            SLACK_APP_TOKEN (one app, every event as a JSON line on standard output). With \
            neither, sockeyed runs a short demo against an embedded Slack simulator.
            """
    )

    @Option(name: .long, help: "The YAML configuration file (default: $SOCKEYE_CONFIG).")
    var config: String?

    @Flag(name: .long, help: "Check the configuration and exit without connecting.")
    var checkConfig = false

    @Option(name: .long, help: "How long the demo runs, in seconds.")
    var demoSeconds = 12

    @Option(name: .long, help: "Envelopes per second the demo's simulator sends.")
    var demoRate = 500

    @Option(name: .long, help: "Where the demo's operations listener binds (host:port; port 0 picks a free one).")
    var demoOperations = "127.0.0.1:0"

    @Option(name: .long, help: "trace, debug, info, notice, warning, error or critical (default: $SOCKEYE_LOG_LEVEL or info).")
    var logLevel: String?

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let level = Logger.Level(rawValue: logLevel ?? environment["SOCKEYE_LOG_LEVEL"] ?? "info") ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "sockeyed")
        let metrics = MetricsExport.bootstrap()
        OpenFileLimit.raiseToHardLimit()

        let configuration: DaemonConfiguration?
        do {
            if let path = config ?? environment["SOCKEYE_CONFIG"] {
                configuration = try ConfigLoader.load(path: path, environment: environment)
            } else {
                configuration = try ConfigLoader.environment(environment)
            }
        } catch {
            FileHandle.standardError.write(Data("sockeyed: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        if checkConfig {
            guard let configuration else {
                FileHandle.standardError.write(Data("sockeyed: nothing to check: give --config FILE or set SLACK_APP_TOKEN\n".utf8))
                throw ExitCode(2)
            }
            print("configuration OK: \(configuration.apps.count) app(s), sinks \(configuration.sinks.keys.sorted().joined(separator: ", "))")
            return
        }

        if let configuration {
            let daemon = try makeDaemon(configuration, logger: logger)
            var services = [daemon.statusLine()]
            if let path = config ?? environment["SOCKEYE_CONFIG"] {
                services.append(daemon.reloadOnHangup { () throws(ConfigError) in
                    try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
                })
            }
            if let address = configuration.operationsAddress {
                services.append(try makeOperations(address, daemon, metrics, logger, configuration.listeners).service)
            }
            if let address = configuration.listeners.publicAddress {
                services.append(try makePublic(address, daemon, logger, configuration.listeners.publicLimits).service)
            }
            try await daemon.run(extraServices: services)
            return
        }

        // No token and no configuration: the demo.
        let demo = try Demo(rate: Double(demoRate), seconds: demoSeconds)
        FileHandle.standardError.write(Data(
            "sockeyed: no SLACK_APP_TOKEN and no --config: a \(demoSeconds) s demo against an embedded Slack simulator at \(demo.simulator.apiBaseURL)\n".utf8))
        let daemon = try makeDaemon(demo.configuration, logger: logger)
        let operations = try makeOperations(demoOperations, daemon, metrics, logger)
        let announce = Task {
            while operations.port == nil, !Task.isCancelled { try? await Task.sleep(for: .milliseconds(20)) }
            if let port = operations.port {
                FileHandle.standardError.write(Data("sockeyed: status page at http://127.0.0.1:\(port)/ (metrics at /metrics)\n".utf8))
            }
        }
        defer { announce.cancel() }
        try await daemon.run(extraServices: [demo.loadService, daemon.statusLine(label: "demo"), operations.service],
                             shutdownAfter: demo.duration)
        FileHandle.standardError.write(Data(demo.summary().utf8))
        demo.simulator.stop()
    }

    func makeOperations(_ address: String, _ daemon: Daemon, _ metrics: MetricsExport, _ logger: Logger,
                        _ listeners: ListenerSettings = ListenerSettings()) throws -> OperationsServer {
        do {
            return try OperationsServer(address: address, limits: listeners.operations, allowedHosts: listeners.allowedHosts,
                                        daemon: daemon, metrics: metrics, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("sockeyed: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    func makePublic(_ address: String, _ daemon: Daemon, _ logger: Logger, _ limits: ListenerLimits) throws -> PublicServer {
        do {
            return try PublicServer(address: address, limits: limits, daemon: daemon, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("sockeyed: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }

    func makeDaemon(_ configuration: DaemonConfiguration, logger: Logger) throws -> Daemon {
        do {
            return try Daemon(configuration: configuration, logger: logger, makeSink: { name, settings in
                switch settings {
                case .spool(let spool): return try SpoolSink(name: name, settings: spool, logger: logger)
                case .http(let forward): return HTTPForwarderSink(name: name, settings: forward, logger: logger)
                default: return nil
                }
            })
        } catch {
            FileHandle.standardError.write(Data("sockeyed: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
    }
}
