import Foundation
import Logging
import ServiceLifecycle
import SockeyeSinkKit
import UnixSignals
import Sockeye
import Synchronization

/// The daemon: every enabled app of a configuration on one transport runtime, their sinks,
/// graceful shutdown on SIGTERM or SIGINT (stop taking envelopes, finish the batches in
/// hand, flush acks, close connections with 1000, exit), and `reload(_:)` (what SIGHUP
/// does): added apps start, removed apps drain, changed apps restart, the others are not
/// touched.
public final class Daemon: Sendable {
    /// Makes the sinks this library does not implement itself (the spool): `nil` when it
    /// cannot make that kind.
    public typealias SinkMaker = @Sendable (_ name: String, _ settings: SinkSettings) throws -> (any EventSink)?
    /// Makes a worker's stream source (JetStream), from the worker's settings.
    public typealias SourceMaker = @Sendable (_ settings: WorkerSettings) throws -> any StreamSource
    /// Makes an app's share of its connections in a cluster: `nil` when the app does not
    /// share them (no cluster, or an app without Socket Mode).
    public typealias ShareMaker = @Sendable (_ app: AppSettings) -> (any ConnectionShare)?
    /// Makes what an app installed by OAuth shares with the other nodes of a cluster (its
    /// installations' replica and the token-rotation lock): `nil` on a single node.
    public typealias InstallationSharingMaker = @Sendable (_ app: AppSettings) -> InstallationSharing?

    /// What is running now.
    struct State {
        var configuration: DaemonConfiguration
        var runners: [AppRunner] {
            didSet {
                ingressRoutes = IngressRoute.table(runners)
                installRoutes = InstallRoute.table(runners)
            }
        }
        /// Apps installed by OAuth by install page and redirect path.
        var installRoutes: [String: InstallRoute]
        var sinks: [String: any EventSink]
        var shuttingDown = false
        /// HTTP-mode apps by ingress path, kept in step with `runners`.
        var ingressRoutes: [String: IngressRoute]

        init(configuration: DaemonConfiguration, runners: [AppRunner], sinks: [String: any EventSink]) {
            self.configuration = configuration
            self.runners = runners
            self.sinks = sinks
            ingressRoutes = IngressRoute.table(runners)
            installRoutes = InstallRoute.table(runners)
        }
    }

    let logger: Logger
    /// The one runtime (service thread) every app of the daemon runs on.
    let runtime: SocketModeRuntime
    /// Whether the daemon made `runtime` (and shuts it down at the end of `run`).
    private let ownsRuntime: Bool
    let makeSink: SinkMaker?
    let makeShare: ShareMaker?
    let makeInstallationSharing: InstallationSharingMaker?
    private let state: Mutex<State>
    private let claimsTable = ClaimsTable()
    /// The apps' histories (the status page's charts), kept across restarts and reloads.
    private let histories: AppHistories
    /// The listeners as they were bound at start: a reload cannot change them.
    private let listenersAtStart: ListenersAtStart
    private let running = Mutex<ServiceGroup?>(nil)
    /// Runners for the supervisor to start; finished at shutdown.
    private let starts: AsyncStream<AppRunner>
    private let startContinuation: AsyncStream<AppRunner>.Continuation
    /// The workers, made at start: a reload does not change them (nor the sinks they use).
    let workers: [WorkerRunner]
    /// The installations of the apps installed by OAuth, for command sinks that pass an
    /// installation's bot token.
    let tokens: InstallationTokens

    /// Opens the sinks and builds every enabled app's client (nothing connects until `run`).
    /// `makeSink` opens the kinds of sink other modules implement, `makeSource` the workers'
    /// streams, `makeShare` each app's share of its connections in a cluster,
    /// `makeInstallationSharing` what each app installed by OAuth shares with the other nodes.
    public init(configuration: DaemonConfiguration, runtime: SocketModeRuntime? = nil, logger: Logger,
                makeSink: SinkMaker? = nil, makeSource: SourceMaker? = nil, makeShare: ShareMaker? = nil,
                makeInstallationSharing: InstallationSharingMaker? = nil) throws(DaemonError) {
        self.logger = logger
        listenersAtStart = ListenersAtStart(configuration)
        if let runtime {
            self.runtime = runtime
            ownsRuntime = false
        } else {
            do {
                self.runtime = try SocketModeRuntime()
            } catch {
                throw .sink("cannot start the transport: \(error.description)")
            }
            ownsRuntime = true
        }
        self.makeSink = makeSink
        self.makeShare = makeShare
        self.makeInstallationSharing = makeInstallationSharing
        let runtime = self.runtime
        let tokens = InstallationTokens()
        self.tokens = tokens
        let sinks = try Self.openSinks(for: configuration, reusing: [:], previous: nil, makeSink: makeSink, tokens: tokens)
        histories = AppHistories(interval: configuration.historyInterval)
        var runners: [AppRunner] = []
        for app in configuration.apps where app.enabled {
            runners.append(try Self.makeRunner(app, sinks: sinks, runtime: runtime, logger: logger, claims: claimsTable,
                                               makeShare: makeShare, makeSharing: makeInstallationSharing, histories: histories))
        }
        var workers: [WorkerRunner] = []
        for worker in configuration.workers {
            guard let makeSource else { throw .sink("worker \(worker.name): this build of sockeyed cannot read streams") }
            do {
                workers.append(WorkerRunner(settings: worker, source: try makeSource(worker), sinks: sinks, logger: logger))
            } catch {
                throw .sink("worker \(worker.name): \(error)")
            }
        }
        self.workers = workers
        state = Mutex(State(configuration: configuration, runners: runners, sinks: sinks))
        tokens.update(runners)
        (starts, startContinuation) = AsyncStream.makeStream()
        for runner in runners { startContinuation.yield(runner) }
    }

    /// The configuration in force.
    public var configuration: DaemonConfiguration { state.withLock { $0.configuration } }

    /// The apps running now.
    public var runners: [AppRunner] { state.withLock { $0.runners } }

    /// The app taking HTTP requests at `path`, with what it takes there and its body limit
    /// (one dictionary lookup: the ingress asks for every request).
    public func ingressRoute(_ path: String) -> IngressRoute? {
        state.withLock { $0.ingressRoutes[path] }
    }

    /// The install page or OAuth redirect at `path` (one dictionary lookup).
    public func installRoute(_ path: String) -> InstallRoute? {
        state.withLock { $0.installRoutes[path] }
    }

    /// The installations of each app installed by OAuth (reads the stores).
    public func installationSnapshots() -> [String: [InstallationSnapshot]] {
        var out: [String: [InstallationSnapshot]] = [:]
        for runner in runners {
            if let installations = runner.installations { out[runner.settings.name] = installations.snapshots() }
        }
        return out
    }

    /// The open sinks by name.
    public var sinks: [String: any EventSink] { state.withLock { $0.sinks } }

    /// Runs until SIGTERM/SIGINT (or `stop()`, or the end of `shutdownAfter`); returns after
    /// the drain. Throws, after the same drain, the error of an extra service that failed.
    public func run(extraServices: [any Service] = [], shutdownAfter: Duration? = nil) async throws {
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: AppsService(daemon: self), successTerminationBehavior: .gracefullyShutdownGroup,
                  failureTerminationBehavior: .gracefullyShutdownGroup)
        ]
        if !workers.isEmpty {
            services.append(.init(service: WorkersService(workers: workers), successTerminationBehavior: .ignore,
                                  failureTerminationBehavior: .gracefullyShutdownGroup))
        }
        // A companion that fails (a listener that cannot bind its address) stops the daemon
        // with its error: running on without a listener the configuration asked for would
        // leave probes, metrics or Slack's requests unanswered with nothing said.
        for service in extraServices {
            services.append(.init(service: service, successTerminationBehavior: .ignore,
                                  failureTerminationBehavior: .gracefullyShutdownGroup))
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
        for sink in state.withLock({ Array($0.sinks.values) }) { await sink.close() }
        if ownsRuntime { runtime.shutdown() }
    }

    /// Starts the same graceful shutdown SIGTERM does (for embedding and tests).
    public func stop() async {
        guard let group = running.withLock({ $0 }) else { return }
        await group.triggerGracefulShutdown()
    }

    // MARK: Reload

    /// What a reload changed, by app name.
    public struct ReloadSummary: Sendable, Equatable, CustomStringConvertible {
        public var started: [String] = []
        public var stopped: [String] = []
        public var restarted: [String] = []
        public var unchanged: [String] = []

        public init(started: [String] = [], stopped: [String] = [], restarted: [String] = [], unchanged: [String] = []) {
            self.started = started
            self.stopped = stopped
            self.restarted = restarted
            self.unchanged = unchanged
        }

        public var description: String {
            "started [\(started.joined(separator: ", "))], stopped [\(stopped.joined(separator: ", "))], "
                + "restarted [\(restarted.joined(separator: ", "))], unchanged [\(unchanged.joined(separator: ", "))]"
        }
    }

    /// Applies `new`: apps that are new start, apps that are gone (or disabled) drain and stop,
    /// apps whose settings or sinks changed restart, the others keep running untouched.
    /// Nothing changes if a new sink or client cannot be made, or if an app needs a listener
    /// that is not running (the error is thrown). Listener settings apply only at start: a
    /// change to them is logged as such.
    @discardableResult
    public func reload(_ new: DaemonConfiguration) async throws(DaemonError) -> ReloadSummary {
        let (old, shuttingDown) = state.withLock { ($0, $0.shuttingDown) }
        guard !shuttingDown else { return ReloadSummary() }
        if let refusal = listenersAtStart.refusal(of: new) { throw .listener(refusal) }
        let ignored = listenersAtStart.changesIgnored(by: new)
        if !ignored.isEmpty {
            logger.warning("listener settings changed; they take effect at the next start, the running listeners keep theirs",
                           metadata: ["changed": .string(ignored.joined(separator: ", "))])
        }
        var new = new
        if new.workers != old.configuration.workers {
            logger.warning("workers changed; they take effect at the next start, the running workers keep theirs")
            new.workers = old.configuration.workers
        }
        let sinks = try Self.openSinks(for: new, reusing: old.sinks, previous: old.configuration, makeSink: makeSink, tokens: tokens)
        var summary = ReloadSummary()
        var keep: [AppRunner] = []
        var start: [AppRunner] = []
        var stop: [AppRunner] = []
        for app in new.apps where app.enabled {
            if let current = old.runners.first(where: { $0.settings.name == app.name }) {
                let sinksSame = app.routes.flatMap(\.sinks).allSatisfy { old.sinks[$0] === sinks[$0] }
                if current.settings == app && sinksSame && !current.status.snapshot.state.isDisabled {
                    keep.append(current)
                    summary.unchanged.append(app.name)
                    continue
                }
                stop.append(current)
                summary.restarted.append(app.name)
            } else {
                summary.started.append(app.name)
            }
            start.append(try Self.makeRunner(app, sinks: sinks, runtime: runtime, logger: logger, claims: claimsTable,
                                             makeShare: makeShare, makeSharing: makeInstallationSharing, histories: histories))
        }
        for runner in old.runners where !new.apps.contains(where: { $0.enabled && $0.name == runner.settings.name }) {
            stop.append(runner)
            summary.stopped.append(runner.settings.name)
        }
        let retired = old.sinks.filter { sinks[$0.key] !== $0.value }.map(\.value)
        state.withLock {
            $0.configuration = new
            $0.runners = keep + start
            $0.sinks = sinks
        }
        histories.keep(only: Set(new.apps.filter(\.enabled).map(\.name)))
        tokens.update(keep + start)
        // Old instances drain before the new ones take over (an app restarted with a new
        // token or URL must not hold both sets of connections for long).
        for runner in stop { await runner.stop() }
        for runner in start { startContinuation.yield(runner) }
        for sink in retired { await sink.close() }
        logger.notice("configuration reloaded", metadata: ["changes": .string(summary.description)])
        return summary
    }

    // MARK: Building

    /// Event ids taken by each of this daemon's apps that take HTTP requests, by app name:
    /// kept across restarts and reloads, so an event taken before a restart is not taken again.
    final class ClaimsTable: Sendable {
        private let table = Mutex<[String: EventClaims]>([:])
        func claims(for app: String) -> EventClaims {
            table.withLock { table in
                if let existing = table[app] { return existing }
                let made = EventClaims()
                table[app] = made
                return made
            }
        }
    }

    static func makeRunner(_ app: AppSettings, sinks: [String: any EventSink], runtime: SocketModeRuntime, logger: Logger,
                           claims table: ClaimsTable, makeShare: ShareMaker?,
                           makeSharing: InstallationSharingMaker? = nil, histories: AppHistories? = nil) throws(DaemonError) -> AppRunner {
        let claims = app.delivery.usesHTTP ? table.claims(for: app.name) : nil
        let share = app.delivery.usesSocket ? makeShare?(app) : nil
        var installations: AppInstallations?
        if app.oauth != nil {
            var appLogger = logger
            appLogger[metadataKey: "app"] = .string(app.name)
            do {
                let sharing = makeSharing?(app)
                installations = try AppInstallations(app: app, runtime: runtime, logger: appLogger,
                                                     installationLock: sharing?.lock, replica: sharing?.replica)
            } catch {
                throw .app(app.name, error.description)
            }
        }
        do {
            return try AppRunner(settings: app, sinks: sinks, runtime: runtime, logger: logger, claims: claims, share: share,
                                 installations: installations, history: histories?.recorder(for: app.name))
        } catch {
            throw .app(app.name, "\(error)")
        }
    }

    /// The sinks `configuration`'s enabled apps use: an unchanged sink (same name, same
    /// settings as in `previous`, and for a jetstream sink the same `cluster:`) is reused as it
    /// is, the others are opened.
    static func openSinks(for configuration: DaemonConfiguration, reusing existing: [String: any EventSink],
                          previous: DaemonConfiguration?, makeSink: SinkMaker?,
                          tokens: InstallationTokens? = nil) throws(DaemonError) -> [String: any EventSink] {
        var sinks: [String: any EventSink] = [:]
        let used = Set(configuration.apps.filter(\.enabled).flatMap { $0.routes.flatMap(\.sinks) }
                       + configuration.workers.flatMap { $0.routes.flatMap(\.sinks) })
        // A worker keeps the sinks it started with: a sink a worker uses is never replaced.
        let pinned = Set(configuration.workers.flatMap { $0.routes.flatMap(\.sinks) })
        for (name, settings) in configuration.sinks where used.contains(name) {
            if let sink = existing[name], pinned.contains(name) {
                sinks[name] = sink
                continue
            }
            let sameCluster: Bool = if case .jetstream = settings { previous?.cluster == configuration.cluster } else { true }
            if let sink = existing[name], previous?.sinks[name] == settings, sameCluster {
                sinks[name] = sink
                continue
            }
            do {
                switch settings {
                case .stdout: sinks[name] = JSONLinesSink(standardOutputNamed: name)
                case .file(let path): sinks[name] = try JSONLinesSink(name: name, appendingTo: path)
                case .command(let command): sinks[name] = CommandSink(name: name, settings: command, tokens: tokens)
                default:
                    guard let made = try makeSink?(name, settings) else {
                        throw SinkError("sink \(name): this build of sockeyed cannot make a \(settings.kind) sink")
                    }
                    sinks[name] = made
                }
            } catch let error as SinkError {
                throw .sink(error.description)
            } catch {
                throw .sink("sink \(name): \(error)")
            }
        }
        return sinks
    }

    // MARK: Supervision

    /// Runs every app handed to it until shutdown, then drains them all.
    func superviseApps() async {
        await withTaskGroup(of: Void.self) { group in
            for await runner in starts {
                group.addTask { await self.supervise(runner) }
            }
            await group.waitForAll()
        }
    }

    /// Stops every app (graceful) and ends supervision once they are done.
    func beginShutdown() {
        let runners = state.withLock {
            $0.shuttingDown = true
            return $0.runners
        }
        startContinuation.finish()
        for runner in runners { Task { await runner.stop() } }
    }

    /// Longest wait before an app that ended on its own is started again.
    static let maximumRestartDelay: Duration = .seconds(60)

    /// One app, for as long as the configuration wants it:
    /// - a fatal failure (a token Slack refuses, `link_disabled`) disables it with its reason
    ///   while the others run on; a reload with a fixed configuration starts it again;
    /// - lost connections are the client's to re-establish (with backoff) and never end it;
    /// - if it ends in any other way while still wanted (its client stopped on its own), it
    ///   is rebuilt and started again after 1 s, 2 s, 4 s … up to 60 s (back to 1 s after a
    ///   minute of running), so the app never goes silently deaf.
    func supervise(_ first: AppRunner) async {
        var runner = first
        var failures = 0
        while true {
            let started = ContinuousClock.now
            var failure: (any Error)?
            do {
                try await runner.run()
            } catch {
                failure = error
            }
            if let failure, case SocketModeError.terminated = failure {
                runner.counters.update { $0.lastError = "disabled: \(failure)" }
                runner.status.setState(.disabled(reason: "\(failure)"))
                runner.status.error("disabled: \(failure) (fix the app or its token, then reload with SIGHUP)")
                logger.error("app disabled", metadata: ["app": .string(runner.settings.name), "reason": .string("\(failure)")])
                return
            }
            guard isWanted(runner) else { return }
            failures = ContinuousClock.now - started > .seconds(60) ? 1 : failures + 1
            let delay = min(Self.maximumRestartDelay, .seconds(1 << min(failures - 1, 6)))
            let why = failure.map { "\($0)" } ?? "its client stopped"
            runner.status.setState(.restarting(after: delay, reason: why))
            runner.status.error("ended unexpectedly (\(why)); restarting in \(delay)")
            logger.error("app ended unexpectedly: restarting it", metadata: [
                "app": .string(runner.settings.name), "reason": .string(why), "restart_in": .string("\(delay)"),
            ])
            try? await Task.sleep(for: delay)
            guard isWanted(runner), let next = replace(runner) else { return }
            runner = next
        }
    }

    /// Whether `runner` is still one of the daemon's apps (not removed by a reload, no shutdown).
    private func isWanted(_ runner: AppRunner) -> Bool {
        state.withLock { !$0.shuttingDown && $0.runners.contains { $0 === runner } }
    }

    /// A new runner for `old`'s app in its place, or nil when it cannot be made (logged) or
    /// `old` is no longer wanted.
    private func replace(_ old: AppRunner) -> AppRunner? {
        let sinks = state.withLock { $0.sinks }
        let next: AppRunner
        do {
            next = try Self.makeRunner(old.settings, sinks: sinks, runtime: runtime, logger: logger, claims: claimsTable,
                                       makeShare: makeShare, makeSharing: makeInstallationSharing, histories: histories)
        } catch {
            old.status.setState(.disabled(reason: "\(error)"))
            logger.error("app disabled: it cannot be restarted", metadata: ["app": .string(old.settings.name), "reason": .string("\(error)")])
            return nil
        }
        let replaced = state.withLock { state -> Bool in
            guard !state.shuttingDown, let index = state.runners.firstIndex(where: { $0 === old }) else { return false }
            state.runners[index] = next
            return true
        }
        return replaced ? next : nil
    }

    /// The apps as one service of the group.
    struct AppsService: Service {
        let daemon: Daemon

        func run() async throws {
            await withGracefulShutdownHandler {
                await daemon.superviseApps()
            } onGracefulShutdown: {
                daemon.beginShutdown()
            }
        }
    }

    /// Ends the group after a delay (the demo's bounded run).
    struct Timer: Service {
        let after: Duration
        func run() async throws {
            try? await Task.sleep(for: after)
        }
    }
}

/// Why the daemon cannot start (or a reload cannot be applied).
public enum DaemonError: Error, Sendable, CustomStringConvertible {
    case sink(String)
    case app(String, String)
    /// The configuration needs a listener that is not running (see `ListenersAtStart`).
    case listener(String)

    public var description: String {
        switch self {
        case .sink(let message): message
        case .app(let name, let message): "app \(name): \(message)"
        case .listener(let message): message
        }
    }
}

extension Daemon {
    /// Opens every file sink's path again (after a log rotation); a sink that cannot is
    /// logged and keeps its old file.
    public func reopenSinks() async {
        var reopened = 0
        for (name, sink) in sinks.sorted(by: { $0.key < $1.key }) {
            if let problem = await sink.reopen() {
                logger.error("a sink could not reopen its file", metadata: ["sink": .string(name), "error": .string(problem)])
            } else {
                reopened += 1
            }
        }
        logger.info("sinks reopened their files", metadata: ["sinks": .stringConvertible(reopened)])
    }

    /// A service that reloads the configuration from `load` on every SIGHUP; a configuration
    /// that does not load or apply is logged and the running one stays. `phases` hears each
    /// reload begin and end (the service manager's RELOADING and READY).
    public func reloadOnHangup(_ load: @escaping @Sendable () throws(ConfigError) -> DaemonConfiguration,
                               phases: (@Sendable (ReloadPhase) -> Void)? = nil) -> any Service {
        HangupReload(daemon: self, load: load, phases: phases)
    }

    /// A service that takes SIGHUP for a daemon with no configuration file (its settings
    /// came from the environment): each one is logged as ignored. Without it the signal's
    /// default action would end the process, apps and all, on a service manager's reload.
    public func ignoringHangup(phases: (@Sendable (ReloadPhase) -> Void)? = nil) -> any Service {
        HangupReload(daemon: self, load: nil, phases: phases)
    }

    struct HangupReload: Service {
        let daemon: Daemon
        /// nil: nothing to reload from.
        let load: (@Sendable () throws(ConfigError) -> DaemonConfiguration)?
        let phases: (@Sendable (ReloadPhase) -> Void)?

        func run() async throws {
            let hangups = await UnixSignalsSequence(trapping: .sighup)
            await cancelWhenGracefulShutdown {
                for await _ in hangups {
                    phases?(.began)
                    // Files first, whatever the configuration says: a rotation's
                    // `postrotate kill -HUP` must not depend on the file loading.
                    await daemon.reopenSinks()
                    guard let load else {
                        daemon.logger.notice("SIGHUP ignored: no configuration file to reload (the settings came from the environment)")
                        phases?(.ended(.nothingToReload))
                        continue
                    }
                    daemon.logger.notice("SIGHUP: reloading the configuration")
                    do {
                        try await daemon.reload(try load())
                        phases?(.ended(.applied))
                    } catch let error as ConfigError {
                        daemon.logger.error("reload refused: the configuration has an error; the running one stays",
                                            metadata: ["error": .string(error.description)])
                        phases?(.ended(.refused))
                    } catch {
                        daemon.logger.error("reload failed; the running configuration stays", metadata: ["error": .string("\(error)")])
                        phases?(.ended(.refused))
                    }
                }
            }
        }
    }
}
