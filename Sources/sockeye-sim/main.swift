import ArgumentParser
import Foundation
import SockeyeSim

/// `sockeye-sim`: a faithful local simulator of Slack's side of Socket Mode.
struct SockeyeSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sockeye-sim",
        abstract: "Simulates Slack's Socket Mode server: apps.connections.open, WebSockets, envelopes, acks, faults, load.")

    @Option(help: "Port on 127.0.0.1 (0 picks a free one; the real port is printed).") var port = 0
    @Flag(help: "Serve wss:// and https:// with a self-signed certificate (created on first start).") var tls = false
    @Option(help: "Folder for the self-signed certificate.") var certDir: String?
    @Option(help: "YAML/JSON file of configuration overrides (keys of SimConfig).") var config: String?
    @Option(help: "YAML/JSON scenario file (config + timed steps). With --load-total the steps run beside the load, timed from its start; without, from the sim's start.") var scenario: String?
    @Option(help: "Folder of JSON fixtures {\"type\":…,\"payload\":{…}} to register as payload kinds.") var fixtures: String?
    @Option(help: "App-level token to accept (repeatable; replaces the default).") var appToken: [String] = []
    @Option(help: "Bot token for auth.test (repeatable; replaces the default).") var botToken: [String] = []
    @Option(help: "Divide protocol durations (lifetime, warning lead, retry delays) by this.") var timeScale: Double?
    @Option(help: "Ack deadline in seconds.") var ackDeadline: Double?
    @Option(help: "Server ping interval in seconds (0 disables).") var pingInterval: Double?
    @Option(help: "Oversize client frames: close (1009) or drop.") var oversize: String?
    @Option(help: "Routing: round_robin or random.") var routing: String?
    @Flag(help: "Keep registrations of connections lost without a close frame as ghosts.") var ghostOnUncleanClose = false
    @Option(help: "Make apps.connections.open fail with this error (e.g. ratelimited, internal_error, http_503).") var openError: String?
    @Option(help: "Refuse WebSocket upgrades for this many seconds after start.") var refuseSeconds: Double?
    @Option(help: "Delay hello by this many seconds.") var slowHello: Double?
    @Option(help: "Register this many ghost connections at start.") var ghosts: Int?
    @Option(help: "Load: envelopes per second (open loop). Without it, --load-window selects as-fast-as-acked.") var loadRate: Double?
    @Option(help: "Load: envelopes in flight (as-fast-as-acked mode).") var loadWindow: Int?
    @Option(help: "Load: total envelopes (0: no load run).") var loadTotal = 0
    @Option(help: "Load: payload size mix in bytes, comma separated (e.g. 1024,1024,4096).") var loadSizes: String?
    @Option(help: "Load: payload kinds, comma separated (e.g. message,app_mention).") var loadKinds: String?
    @Option(help: "Load: index of the app to load (default 0: the first app in the config).") var loadApp: Int?
    @Option(help: "Load: spread the run round-robin over several apps: all, or comma-separated indices (e.g. 0,1,2). Not with --load-app; Socket Mode only.") var loadApps: String?
    @Option(help: "Load: wait for this many live connections before starting (with --load-apps: on every listed app; Socket Mode only).") var waitConnections = 1
    @Option(help: "Load: seconds to wait after the connections are live before starting.") var loadDelay = 0.2
    @Option(help: "HTTP delivery mode: POST payloads (inject, load) to this Request URL (http:// or https://) instead of Socket Mode.") var requestURL: String?
    @Option(name: .customLong("request-url-ca"), help: "HTTP mode: PEM file of certificates to trust for an https:// Request URL (e.g. its self-signed certificate).") var requestURLCA: String?
    @Option(help: "HTTP mode: keep-alive connections to the Request URL (= requests in progress at once; default 8).") var httpConnections: Int?
    @Option(help: "Signing secret for HTTP delivery (v0 signatures).") var signingSecret = "sockeye-sim-signing-secret"
    @Flag(help: "HTTP mode: send url_verification first and exit non-zero if the app does not echo the challenge.") var verifyURL = false
    @Option(help: "OAuth: the first app's client_id (default 1111.2222).") var clientID: String?
    @Option(help: "OAuth: the first app's client_secret (default simclientsecret, a test fixture).") var clientSecret: String?
    @Option(help: "OAuth: token rotation, access tokens expire after this many seconds (1 … 31536000); 0: off (the default).") var tokenLifetime: Int?
    @Option(help: "OAuth: a redirect URL the first app allows (repeatable; none: any redirect_uri).") var redirectURL: [String] = []
    @Option(help: "Report format at exit: json, table or both.") var report = "both"
    @Option(help: "Exit after this many seconds (0: run until the load finishes or forever).") var duration: Double = 0

    func run() throws {
        var cfg = SimConfig()
        if let config { cfg = try SimConfig.load(path: config, over: cfg) }
        var scen: Scenario?
        if let scenario { scen = try Scenario.load(path: scenario, base: cfg); cfg = scen!.config }
        if !appToken.isEmpty { cfg.apps[0].appTokens = appToken }
        if !botToken.isEmpty { cfg.botTokens = botToken.map(SimConfig.BotToken.init(token:)) }
        if let timeScale { cfg.timeScale = timeScale }
        if let ackDeadline { cfg.ackDeadline = ackDeadline }
        if let pingInterval { cfg.pingInterval = pingInterval }
        if let oversize { cfg.oversize = SimConfig.OversizeAction(rawValue: oversize) ?? .close1009 }
        if let routing { cfg.routing = SimConfig.Routing(rawValue: routing) ?? .roundRobin }
        if ghostOnUncleanClose { cfg.ghostOnUncleanClose = true }
        if let httpConnections { cfg.httpConnections = httpConnections }
        if clientID != nil || clientSecret != nil || tokenLifetime != nil || !redirectURL.isEmpty {
            guard !cfg.apps.isEmpty else { throw ValidationError("the OAuth options need an app in the config") }
            var client = cfg.apps[0].oauth ?? .default
            if let clientID { client.clientID = clientID }
            if let clientSecret { client.clientSecret = clientSecret }
            if let tokenLifetime {
                guard (0...31_536_000).contains(tokenLifetime) else { throw ValidationError("--token-lifetime must be 0 (off) … 31536000") }
                client.tokenLifetimeSeconds = tokenLifetime == 0 ? nil : tokenLifetime
            }
            if !redirectURL.isEmpty { client.redirectURLs = redirectURL }
            cfg.apps[0].oauth = client
        }
        let loadTarget: (app: Int?, apps: [Int]?)
        do throws(LoadRefusal) {
            loadTarget = try LoadSpec.commandLineApps(loadApp: loadApp, loadApps: loadApps, appCount: cfg.apps.count)
        } catch {
            throw ValidationError(loadApps == nil ? "--load-app \(loadApp ?? 0): \(error.message)" : error.message)
        }
        let waitApps = loadTarget.apps ?? [loadTarget.app ?? 0]

        var o = SimServer.Options()
        o.config = cfg
        o.port = port
        o.tls = tls
        o.certDirectory = certDir
        o.fixtures = fixtures
        o.requestURL = requestURL
        o.requestURLCA = requestURLCA
        o.signingSecret = signingSecret
        let server = try SimServer(o)
        if let openError { server.sync { core, _ in core.openErrorMode = OpenErrorMode(error: openError) } }
        if let refuseSeconds { _ = server.inject(Fault(kind: "refuse", seconds: refuseSeconds)) }
        if let slowHello { _ = server.inject(Fault(kind: "slow_hello", seconds: slowHello)) }
        if let ghosts { _ = server.inject(Fault(kind: "ghosts", seconds: cfg.real(cfg.ghostTTL), count: ghosts)) }
        print("LISTENING port=\(server.port) api=\(server.apiBaseURL)\(server.certificatePath.map { " cert=\($0)" } ?? "")")
        // The client id and where to send installers; never the secret, never a token.
        for (i, app) in cfg.apps.enumerated() {
            guard let client = app.oauth else { continue }
            let rotation = client.effectiveTokenLifetime.map { "\($0)s" } ?? "off"
            // On standard error: standard output carries only the announcement, URL_VERIFIED and
            // the report, which tools read by line number.
            FileHandle.standardError.write(Data(
                "OAUTH app=\(i) app_id=\(app.appID) client_id=\(client.clientID) authorize=\(server.oauthAuthorizeURL) token_rotation=\(rotation)\n".utf8))
        }
        fflush(nil)

        if verifyURL, let http = server.http {
            guard http.verifyURL() else {
                FileHandle.standardError.write(Data("url_verification failed for \(http.requestURL)\n".utf8))
                server.stop()
                throw ExitCode(3)
            }
            print("URL_VERIFIED")
            fflush(nil)
        }
        let started = Date()
        let stop = StopFlag()
        func timeUp() -> Bool { stop.isSet || (duration > 0 && Date().timeIntervalSince(started) >= duration) }
        let logStep: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
        // Without a load the steps run here, from the start; with one they run beside it,
        // timed from the load's start, so faults hit envelopes in flight.
        if let scen, loadTotal <= 0 { server.run(scen, log: logStep) }
        if loadTotal > 0 {
            if requestURL == nil {
                while server.fewestLiveConnections(apps: waitApps) < waitConnections, !timeUp() { Thread.sleep(forTimeInterval: 0.01) }
                Thread.sleep(forTimeInterval: loadDelay)
            }
            let sizes = loadSizes?.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            let kinds = loadKinds?.split(separator: ",").map(String.init)
            do throws(LoadRefusal) {
                try server.startLoadOrExplain(LoadSpec(rate: loadRate, window: loadRate == nil ? (loadWindow ?? 1000) : nil, total: loadTotal,
                                                       kinds: kinds, sizes: sizes ?? (kinds == nil ? [1024] : nil),
                                                       app: loadTarget.app, apps: loadTarget.apps))
            } catch {
                server.stop()
                throw ValidationError("the load run could not start: \(error.message)")
            }
            if let scen {
                Thread.detachNewThread { server.run(scen, log: logStep) }
            }
            while !server.loadDone(), !timeUp() { Thread.sleep(forTimeInterval: 0.05) }
        } else {
            while !timeUp() { Thread.sleep(forTimeInterval: 0.1) }
        }
        let r = server.report()
        server.stop()
        if report == "json" || report == "both" { print(r.json()) }
        if report == "table" || report == "both" { print(r.table()) }
    }
}

/// Set by SIGINT/SIGTERM so the run ends and the report is still printed.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var set = false
    private var sources: [DispatchSourceSignal] = []
    init() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [self] in lock.lock(); set = true; lock.unlock() }
            s.resume()
            sources.append(s)
        }
    }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return set }
}

signal(SIGPIPE, SIG_IGN)
SockeyeSimCommand.main()
