import Foundation
import Yams

/// A scripted run: configuration overrides plus timed steps (inject, fault, disconnect,
/// open-error, load, and for OAuth installations teamInject, uninstall, teamAccessRevoked). `inject`, `fault`, `disconnect` and `load` take an `app` index
/// (default 0), `load` also `apps: [0, 1, 2]` (round-robin over several apps, not with
/// `app`); an index the config does not have is a parse error. Written as YAML or JSON:
///
/// ```yaml
/// config: { ackDeadline: 1, timeScale: 60 }
/// steps:
///   - at: 0.5
///     inject: { kind: app_mention, count: 10, app: 1 }
///   - at: 2
///     fault: { kind: drop }
///   - at: 3
///     disconnect: { reason: warning }
///   - at: 4
///     openError: { error: ratelimited, remaining: 2 }
///   - at: 5
///     load: { rate: 1000, total: 5000, sizes: [1024] }
/// ```
public struct Scenario: Sendable {
    /// One timed action; exactly one of the optional fields is set.
    public struct Step: Codable, Sendable {
        /// Deliver `count` payloads of `kind` to `app` (default 0).
        public struct Inject: Codable, Sendable { public var kind: String; public var count: Int?; public var app: Int? }
        /// Send a disconnect to `connection`, or to every connection of `app` (default 0).
        public struct Disconnect: Codable, Sendable { public var reason: String; public var connection: Int?; public var app: Int? }
        /// Deliver `count` payloads of `kind` (default `message`; or `bot_message`) from
        /// workspace `team` to the installation of `app` that covers it (`SimCore.injectForTeam`).
        public struct TeamInject: Codable, Sendable {
            public var team: String; public var enterprise: String?; public var kind: String?; public var count: Int?; public var app: Int?
        }
        /// Uninstall `installation` (a team or enterprise id) of `app`.
        public struct Uninstall: Codable, Sendable { public var installation: String; public var app: Int? }
        /// Take workspace `team` out of the org-wide install of `enterprise`.
        public struct TeamAccessRevoked: Codable, Sendable { public var enterprise: String; public var team: String; public var app: Int? }
        /// Seconds after the scenario starts.
        public var at: Double
        public var inject: Inject?
        public var fault: Fault?
        public var disconnect: Disconnect?
        public var openError: OpenErrorMode?
        public var load: LoadSpec?
        public var teamInject: TeamInject?
        public var uninstall: Uninstall?
        public var teamAccessRevoked: TeamAccessRevoked?
    }

    public var config: SimConfig
    public var steps: [Step]

    /// Parses YAML or JSON text (JSON is YAML) over `base`.
    public static func parse(_ text: String, base: SimConfig = SimConfig()) throws -> Scenario {
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw SimError.badScenario("top level must be a mapping") }
        let config = try SimConfig.merging(root["config"] as? [String: Any] ?? [:], over: base)
        let stepsAny = root["steps"] as? [Any] ?? []
        let data = try JSONSerialization.data(withJSONObject: stepsAny)
        let steps = try JSONDecoder().decode([Step].self, from: data).sorted { $0.at < $1.at }
        for step in steps {
            for app in [step.inject?.app, step.fault?.app, step.disconnect?.app, step.load?.app, step.teamInject?.app, step.uninstall?.app,
                        step.teamAccessRevoked?.app].compactMap({ $0 })
            where !config.apps.indices.contains(app) {
                throw SimError.badScenario("step at \(step.at): app \(app), but the config has \(config.apps.count) app(s)")
            }
            if let load = step.load, load.apps != nil {
                do throws(LoadRefusal) { _ = try load.appIndices(appCount: config.apps.count) } catch {
                    throw SimError.badScenario("step at \(step.at): load: \(error.message)")
                }
            }
        }
        return Scenario(config: config, steps: steps)
    }

    public static func load(path: String, base: SimConfig = SimConfig()) throws -> Scenario {
        try parse(String(contentsOfFile: path, encoding: .utf8), base: base)
    }
}

extension SimConfig {
    /// `base` with the keys of `overrides` replaced (unknown keys are an error).
    public static func merging(_ overrides: [String: Any], over base: SimConfig) throws -> SimConfig {
        var dict = try JSONSerialization.jsonObject(with: JSONEncoder().encode(base)) as? [String: Any] ?? [:]
        for (k, v) in overrides {
            guard dict[k] != nil else { throw SimError.badScenario("unknown config key \(k)") }
            dict[k] = v
        }
        return try JSONDecoder().decode(SimConfig.self, from: JSONSerialization.data(withJSONObject: dict))
    }

    /// Loads a YAML or JSON file of overrides over `base`.
    public static func load(path: String, over base: SimConfig = SimConfig()) throws -> SimConfig {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw SimError.badScenario("config must be a mapping") }
        return try merging(root, over: base)
    }
}

extension SimServer {
    /// Runs a scenario's steps at their times (blocking the caller, not the service thread).
    public func run(_ scenario: Scenario, log: (String) -> Void = { _ in }) {
        let start = Date()
        for step in scenario.steps {
            let wait = step.at - Date().timeIntervalSince(start)
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            log(String(format: "t=%.2f step", step.at))
            let failure: String? = sync { core, now in
                let s = UncheckedBox(value: self).value
                if let i = step.inject { _ = s.inject(kind: i.kind, count: i.count ?? 1, app: i.app ?? 0, now: now) }
                if let f = step.fault { _ = s.apply(f, now: now) }
                if let d = step.disconnect {
                    core.disconnect(reason: d.reason, connection: d.connection.map { ServerConnectionID(UInt64($0)) }, app: d.app ?? 0, now: now)
                }
                if let e = step.openError { core.openErrorMode = e }
                if let l = step.load { _ = s.startLoad(l, now: now) }
                defer { s.pump() }
                do throws(OAuthAdminError) {
                    if let t = step.teamInject {
                        try core.injectForTeam(t.team, enterpriseID: t.enterprise, kind: t.kind ?? "message", count: t.count ?? 1,
                                               app: t.app ?? 0, now: now)
                    }
                    if let u = step.uninstall { try core.uninstall(u.installation, app: u.app ?? 0, now: now) }
                    if let r = step.teamAccessRevoked { try core.revokeTeamAccess(enterpriseID: r.enterprise, teamID: r.team, app: r.app ?? 0, now: now) }
                } catch {
                    return error.description
                }
                return nil
            }
            if let failure { log(String(format: "t=%.2f step failed: ", step.at) + failure) }
        }
    }

    /// Starts a load run from another thread (over Socket Mode, or POSTs in HTTP delivery
    /// mode). Returns false for an unknown app index, a rate ≤ 0, or (HTTP mode) while a
    /// load run is still going.
    @discardableResult
    public func startLoad(_ spec: LoadSpec) -> Bool {
        sync { _, now in UncheckedBox(value: self).value.startLoad(spec, now: now) == nil }
    }

    /// Starts a load run from another thread; throws why it did not start (`LoadRefusal`:
    /// an unknown app, a bad app list, a rate ≤ 0, several apps with one in HTTP mode, an
    /// HTTP run still going).
    public func startLoadOrExplain(_ spec: LoadSpec) throws(LoadRefusal) {
        let refusal: LoadRefusal? = sync { _, now in
            do throws(LoadRefusal) { try UncheckedBox(value: self).value.startLoadOrExplain(spec, now: now) } catch { return error }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// The current report (from another thread).
    public func report() -> SimReport {
        sync { _, now in UncheckedBox(value: self).value.fullReport(now: now) }
    }

    /// Injects generated payloads for `app` (Socket Mode, or HTTP in HTTP delivery mode)
    /// from another thread. False for an unknown kind or app.
    @discardableResult
    public func inject(kind: String, count: Int = 1, app: Int = 0) -> Bool {
        sync { _, now in UncheckedBox(value: self).value.inject(kind: kind, count: count, app: app, now: now) }
    }

    /// Number of connections of `app` that have received hello (0 for an unknown index).
    public func liveConnections(app: Int = 0) -> Int {
        sync { core, _ in
            guard app >= 0, app < core.appCount else { return 0 }
            return core.connections(app: app).filter { core.conns[$0]?.helloSent == true && core.state($0) == .live }.count
        }
    }

    /// The fewest connections that received hello among `apps` (0 for an unknown index
    /// or an empty list): `--wait-connections` with `--load-apps` waits for every app.
    public func fewestLiveConnections(apps: [Int]) -> Int {
        sync { core, _ in
            var fewest = apps.isEmpty ? 0 : Int.max
            for app in apps {
                guard app >= 0, app < core.appCount else { return 0 }
                let live = core.connections(app: app).filter { core.conns[$0]?.helloSent == true && core.state($0) == .live }.count
                fewest = min(fewest, live)
            }
            return fewest
        }
    }

    /// True when a load run was started and everything it generated is settled, over
    /// Socket Mode and HTTP.
    public func loadDone() -> Bool {
        let httpLoad = http?.load
        if let http, httpLoad != nil, !http.loadFinished { return false }
        return sync { core, now in
            UncheckedBox(value: self).value.drainHTTP(now: now)
            let coreIdle = core.loadFinished && core.table.count == 0 && core.httpInFlight == 0
            return (core.load != nil || httpLoad != nil) && coreIdle
        }
    }
}
