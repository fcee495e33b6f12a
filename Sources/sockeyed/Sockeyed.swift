// sockeyed: runs Slack apps over Socket Mode and hands their events to sinks.
//
//   sockeyed run --config sockeyed.yaml   # the apps of a config file
//   SLACK_APP_TOKEN=xapp-… sockeyed run   # one app, every event as a JSON line on stdout
//   sockeyed run --config FILE --check-config
//   sockeyed demo                         # a short demo against an embedded simulator
//   sockeyed --version                    # `sockeyed MAJOR.MINOR.PATCH` (SockeyeVersion: the VERSION file)
//
// Exit status: 0 after a clean stop (SIGTERM, SIGINT, or the demo's end), 2 for a
// configuration error (including `run` with neither a config nor a token), 64 for a usage
// mistake the argument parser catches, 1 for anything else (a listener that cannot bind).
import ArgumentParser
import Foundation
import Logging
import Sockeye
import SockeyeBridge
import SockeyeDaemon
import SockeyeSinkKit
import SockeyeJetStream
import SockeyeSpool
import SockeyeOperations

@main
struct Sockeyed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockeyed",
        abstract: "Runs Slack apps over Socket Mode and hands their events to sinks.",
        version: "sockeyed \(SockeyeVersion.string)",
        subcommands: [Run.self, DemoCommand.self, CheckCommand.self, SpoolCommand.self, DeadLetterCommand.self, ManifestCommand.self,
                      InstallationsCommand.self, SendTestEventCommand.self, HealthcheckCommand.self],
        defaultSubcommand: Run.self
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Connect every configured app and deliver its events until SIGTERM or SIGINT.",
        discussion: """
            The configuration comes from --config (or SOCKEYE_CONFIG); without one, from \
            SLACK_APP_TOKEN (one app, every event as a JSON line on standard output). With \
            neither, it stops with exit status 2 (a missing variable must not look like \
            success to a service manager); `sockeyed demo` runs the demo.
            """
    )

    @Option(name: .long, help: "The YAML configuration file (default: $SOCKEYE_CONFIG).")
    var config: String?

    @Flag(name: .long, help: "Check the configuration and exit without connecting.")
    var checkConfig = false

    @OptionGroup var logging: LoggingOptions

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let setup = try logging.bootstrap(environment: environment)
        let logger = setup.logger
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
            StartupReport.say("\(error.description)")
            throw ExitCode(2)
        }
        if checkConfig {
            guard let configuration else {
                StartupReport.say("nothing to check: give --config FILE or set SLACK_APP_TOKEN")
                throw ExitCode(2)
            }
            print("configuration OK: \(configuration.apps.count) app(s), sinks \(configuration.sinks.keys.sorted().joined(separator: ", "))")
            return
        }

        guard let configuration else {
            StartupReport.say("nothing to run: give --config FILE (or SOCKEYE_CONFIG) or set SLACK_APP_TOKEN; "
                + "`sockeyed demo` runs a demo against an embedded Slack simulator")
            throw ExitCode(2)
        }
        let daemon = try makeDaemon(configuration, logger: logger)
        var services = setup.statusLine ? [daemon.statusLine()] : []  // on a terminal, or with --status-line
        let operations = try configuration.operationsAddress.map { try makeOperations($0, daemon, metrics, logger, configuration.listeners) }
        let ingress = try configuration.listeners.publicAddress.map { try makePublic($0, daemon, logger, configuration.listeners.publicLimits) }
        // Under systemd (Type=notify): READY once the listeners are bound and the apps started,
        // RELOADING and READY around a reload, STOPPING, the watchdog (docs/operations.md).
        let notifier = ServiceManagerNotifier.fromEnvironment(environment, daemon: daemon, logger: logger) {
            (operations.map { $0.port != nil } ?? true) && (ingress.map { $0.port != nil } ?? true)
        }
        if let path = config ?? environment["SOCKEYE_CONFIG"] {
            services.append(daemon.reloadOnHangup({ () throws(ConfigError) in
                try ConfigLoader.load(path: path, environment: ProcessInfo.processInfo.environment)
            }, phases: notifier?.reload))
        } else {
            services.append(daemon.ignoringHangup(phases: notifier?.reload))
        }
        if let operations { services.append(operations.service) }
        if let ingress { services.append(ingress.service) }
        // Last, so that a stop reaches it first: STOPPING goes out as the drain begins.
        if let notifier { services.append(notifier) }
        do {
            try await daemon.run(extraServices: services)
        } catch {
            // A listener that could not bind: the apps were drained, the reason goes out.
            StartupReport.say("\(error)")
            throw ExitCode(1)
        }
    }

    func makeOperations(_ address: String, _ daemon: Daemon, _ metrics: MetricsExport, _ logger: Logger,
                        _ listeners: ListenerSettings = ListenerSettings()) throws -> OperationsServer {
        do {
            return try OperationsServer(address: address, limits: listeners.operations, allowedHosts: listeners.allowedHosts,
                                        daemon: daemon, metrics: metrics, logger: logger)
        } catch {
            StartupReport.say("\(error.description)")
            throw ExitCode(2)
        }
    }

    func makePublic(_ address: String, _ daemon: Daemon, _ logger: Logger, _ limits: ListenerLimits) throws -> PublicServer {
        do {
            return try PublicServer(address: address, limits: limits, daemon: daemon, logger: logger)
        } catch {
            StartupReport.say("\(error.description)")
            throw ExitCode(2)
        }
    }

    func makeDaemon(_ configuration: DaemonConfiguration, logger: Logger) throws -> Daemon {
        do throws(DaemonError) {
            // In a cluster, every Socket Mode app shares its connections with the other nodes
            // through leases (on the servers as the configuration named them at start).
            var leases: ClusterLeases?
            // And every app installed by OAuth shares its installations, and refreshes each
            // installation's tokens on one node at a time (docs/oauth.md).
            var sharing: ClusterInstallationSharing?
            if let cluster = configuration.cluster {
                do {
                    leases = try ClusterLeases(cluster: cluster, logger: logger)
                } catch {
                    throw DaemonError.sink("cluster: \(error.message)")
                }
                sharing = leases.map { ClusterInstallationSharing(cluster: cluster, leases: $0, logger: logger) }
            }
            return try Daemon(configuration: configuration, logger: logger, makeSink: sinkMaker(for: configuration, logger: logger),
                              makeSource: { worker in
                // The loader refuses workers without a `cluster:` block.
                guard let cluster = configuration.cluster else { throw JetStreamError(.refused, "no `cluster:` block") }
                return try JetStreamWorkerSource(settings: worker, cluster: cluster, logger: logger)
            }, makeShare: { [leases] app in
                leases?.share(app: app.name)
            }, makeInstallationSharing: { [sharing] app in
                guard let sharing, let oauth = app.oauth else { return nil }
                do throws(JetStreamError) {
                    return InstallationSharing(replica: try sharing.replica(clientID: oauth.clientID, clientSecret: oauth.clientSecret),
                                               lock: sharing.lock(app: app.name))
                } catch {
                    logger.error("the app's installations cannot be shared with the cluster",
                                 metadata: ["app": .string(app.name), "error": .string(error.message)])
                    return nil
                }
            })
        } catch {
            StartupReport.say("\(error.description)")
            throw ExitCode(2)
        }
    }
}
