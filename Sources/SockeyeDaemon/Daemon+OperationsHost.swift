import SockeyeSinkKit

/// The daemon as the listeners see it (`SockeyeOperations` depends on the protocol only).
extension Daemon: OperationsHost {
    /// Every app's snapshot, in configuration order.
    public func appSnapshots() -> [AppSnapshot] {
        runners.map(\.snapshot)
    }

    /// Each worker's stream source's health.
    public var workerHealth: [String: SinkHealth] {
        Dictionary(workers.map { ($0.settings.name, $0.source.health) }, uniquingKeysWith: { first, _ in first })
    }
}

extension AppRunner: IngressApp {
    /// The app's configured name.
    public var name: String { settings.name }

    /// Counts one ingress request in the app's `sockeyed_ingress_requests_total` series.
    public func countIngress(_ kind: IngressRequest.Kind?, _ outcome: String) {
        ingressCounters?.count(kind, outcome)
    }

    /// The app's figures for the status page, `/readyz` and `/status.json`.
    public var snapshot: AppSnapshot {
        let counts = counters.snapshot
        let stats = clientStats
        let status = self.status.snapshot
        var snapshot = AppSnapshot(
            name: settings.name, state: status.state, ready: status.state.isReady(liveConnections: stats.liveConnections),
            liveConnections: stats.liveConnections, targetConnections: stats.targetConnections, received: counts.received,
            acked: counts.acked, nacked: counts.nacked, unrouted: counts.unrouted,
            deduplicated: stats.pool.duplicatesDropped + counts.duplicates, reconnects: stats.pool.connectionsLost,
            eventsPerSecond: status.eventsPerSecond, lastRefresh: status.lastRefresh, recentErrors: status.recentErrors)
        snapshot.cluster = share?.snapshot
        snapshot.history = history.history(atMilliseconds: Timestamp.nowMilliseconds())
        return snapshot
    }
}

extension IngressRoute {
    /// The routes of the HTTP-mode apps among `runners`, by path (the first app wins a path
    /// two apps give; the configuration refuses that).
    static func table(_ runners: [AppRunner]) -> [String: IngressRoute] {
        var table: [String: IngressRoute] = [:]
        for runner in runners where runner.settings.delivery.usesHTTP {
            let ingress = runner.settings.ingress
            var kindsByPath: [String: [IngressRequest.Kind]] = [:]
            for (path, kind) in [(ingress.eventsPath, IngressRequest.Kind.events), (ingress.commandsPath, .commands),
                                 (ingress.actionsPath, .actions)] {
                kindsByPath[path, default: []].append(kind)
            }
            for (path, kinds) in kindsByPath where table[path] == nil {
                table[path] = IngressRoute(app: runner, kinds: kinds, maxBodyBytes: ingress.maxBodyBytes)
            }
        }
        return table
    }
}

extension InstallRoute {
    /// The install pages and OAuth redirects of the apps installed by OAuth among `runners`,
    /// by path.
    static func table(_ runners: [AppRunner]) -> [String: InstallRoute] {
        var table: [String: InstallRoute] = [:]
        for runner in runners {
            guard let installations = runner.installations, let oauth = runner.settings.oauth else { continue }
            if table[oauth.installPath] == nil { table[oauth.installPath] = InstallRoute(endpoint: installations, kind: .installPage) }
            if table[oauth.redirectPath] == nil { table[oauth.redirectPath] = InstallRoute(endpoint: installations, kind: .redirect) }
        }
        return table
    }
}
