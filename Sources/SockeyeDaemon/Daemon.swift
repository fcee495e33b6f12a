import Foundation
import Logging
import ServiceLifecycle
import Sockeye
import SockeyeTransport
import Synchronization

/// The daemon: every enabled app of a configuration on one transport runtime, their sinks,
/// and graceful shutdown on SIGTERM or SIGINT (stop taking envelopes, finish the batches in
/// hand, flush acks, close connections with 1000, exit).
public final class Daemon: Sendable {
    public let configuration: DaemonConfiguration
    public let runners: [AppRunner]
    let sinks: [String: any EventSink]
    let logger: Logger
    private let running = Mutex<ServiceGroup?>(nil)

    /// Makes the sinks this library does not implement itself (the spool): `nil` when it
    /// cannot make that kind.
    public typealias SinkMaker = @Sendable (_ name: String, _ settings: SinkSettings) throws -> (any EventSink)?

    /// Opens the sinks and builds every enabled app's client (nothing connects yet).
    /// `makeSink` opens the kinds of sink other modules implement.
    public init(configuration: DaemonConfiguration, runtime: TransportRuntime? = nil, logger: Logger,
                makeSink: SinkMaker? = nil) throws(DaemonError) {
        self.configuration = configuration
        self.logger = logger
        var sinks: [String: any EventSink] = [:]
        let used = Set(configuration.apps.filter(\.enabled).flatMap { $0.routes.flatMap(\.sinks) })
        for (name, settings) in configuration.sinks where used.contains(name) {
            do {
                switch settings {
                case .stdout: sinks[name] = JSONLinesSink(standardOutputNamed: name)
                case .file(let path): sinks[name] = try JSONLinesSink(name: name, appendingTo: path)
                default:
                    guard let made = try makeSink?(name, settings) else {
                        throw SinkError("sink \(name): this build of sockeyed cannot make a \(settings) sink")
                    }
                    sinks[name] = made
                }
            } catch let error as SinkError {
                throw .sink(error.description)
            } catch {
                throw .sink("sink \(name): \(error)")
            }
        }
        self.sinks = sinks
        var runners: [AppRunner] = []
        for app in configuration.apps where app.enabled {
            do {
                runners.append(try AppRunner(settings: app, sinks: sinks, runtime: runtime, logger: logger))
            } catch {
                throw .app(app.name, "\(error)")
            }
        }
        self.runners = runners
    }

    /// Runs until SIGTERM/SIGINT (or `extraServices` end the group); returns after the drain.
    public func run(extraServices: [any Service] = [], shutdownAfter: Duration? = nil) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = runners.map {
            .init(service: AppService(runner: $0, logger: logger), successTerminationBehavior: .ignore,
                  failureTerminationBehavior: .gracefullyShutdownGroup)
        }
        for service in extraServices {
            services.append(.init(service: service, successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore))
        }
        if let shutdownAfter {
            services.append(.init(service: Timer(after: shutdownAfter), successTerminationBehavior: .gracefullyShutdownGroup))
        }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        configuration.maximumGracefulShutdownDuration = .seconds(15)
        let group = ServiceGroup(configuration: configuration)
        running.withLock { $0 = group }
        defer { running.withLock { $0 = nil } }
        try await group.run()
        for sink in sinks.values { await sink.close() }
    }

    /// Starts the same graceful shutdown SIGTERM does (for embedding and tests).
    public func stop() async {
        guard let group = running.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
    }

    /// Ends the group after a delay (the demo's bounded run).
    struct Timer: Service {
        let after: Duration
        func run() async throws {
            try? await Task.sleep(for: after)
        }
    }
}

/// Why the daemon cannot start.
public enum DaemonError: Error, Sendable, CustomStringConvertible {
    case sink(String)
    case app(String, String)

    public var description: String {
        switch self {
        case .sink(let message): message
        case .app(let name, let message): "app \(name): \(message)"
        }
    }
}

/// One app as a service: runs it and stops it on graceful shutdown. A fatal failure (a
/// token Slack refuses, `link_disabled`) disables the app with its reason while the others
/// run on; lost connections are the client's to re-establish (with backoff) and never end
/// the service.
struct AppService: Service {
    let runner: AppRunner
    let logger: Logger

    func run() async throws {
        try await withGracefulShutdownHandler {
            do {
                try await runner.run()
            } catch let error as SocketModeError {
                runner.counters.update { $0.lastError = "disabled: \(error)" }
                runner.status.setState("disabled: \(error)")
                runner.status.error("disabled: \(error)")
                logger.error("app disabled", metadata: ["app": .string(runner.settings.name), "reason": .string("\(error)")])
                // The others run on; this one waits for the daemon to stop.
                try? await gracefulShutdown()
            }
        } onGracefulShutdown: {
            let runner = runner
            Task { await runner.stop() }
        }
    }
}
