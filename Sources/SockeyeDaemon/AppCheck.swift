import Foundation
import Sockeye
import SockeyeSinkKit

/// `sockeyed check` for one app: what Slack says about its tokens before it runs.
///
/// - a dry `apps.connections.open` with the app token (the URL is not used);
/// - with a bot token, `auth.test`: the workspace, the bot's user and bot ids, and which of
///   the scopes the app's routes need the token lacks;
/// - a short probe connection: Slack's `hello` says how many connections it counts for the
///   app; more than the probe's own one means another process holds connections and takes a
///   share of the events (Slack spreads them over every connection of the app). Anything
///   delivered to the probe is nacked, so Slack redelivers it to the app's real consumers.
public struct AppCheck: Sendable {
    /// One finding: `ok` false is a problem to fix.
    public struct Finding: Sendable, Equatable {
        public var ok: Bool
        public var text: String
    }

    public let app: AppSettings
    public private(set) var findings: [Finding] = []

    /// Whether nothing is wrong.
    public var passed: Bool { findings.allSatisfy(\.ok) }

    /// Runs every check of `app` on `runtime`; `probe` bounds the probe connection (nil: no
    /// probe, for an app whose connections a cluster shares: one more socket could take a
    /// slot the nodes count on, and other nodes holding connections is what they do).
    public static func run(_ app: AppSettings, runtime: SocketModeRuntime, probe: Duration? = .seconds(5),
                           environment: [String: String] = ProcessInfo.processInfo.environment) async -> AppCheck {
        var check = AppCheck(app: app)
        if app.delivery.usesHTTP {
            let paths = Set(app.ingress.paths).sorted().joined(separator: ", ")
            check.add(app.signingSecret != nil, "delivery \(app.delivery.rawValue): Slack's requests are taken at \(paths) on the operations listener"
                      + (app.signingSecret == nil ? ", but no signing_secret is set" : ", checked with the signing secret"))
        }
        if app.oauth != nil { await check.checkOAuth(runtime: runtime, environment: environment) }
        guard app.delivery.usesSocket else {
            check.add(true, "delivery http: no Socket Mode checks (the app token is not used)")
            return check
        }
        check.add(true, "app token: \(AppTokenKind(app.appToken)) (\(redacted(app.appToken)))")
        do {
            let response = try await runtime.callWebAPI(method: "apps.connections.open", token: app.appToken,
                                                        apiBaseURL: app.apiURL, environment: environment)
            switch ConnectionsOpenCall.result(of: response) {
            case .url: check.add(true, "apps.connections.open: ok (Socket Mode is on and the token has connections:write)")
            case .apiError(let code, _): check.add(false, "apps.connections.open: \(code) — \(explain(code))")
            case .httpStatus(let status, _): check.add(false, "apps.connections.open: HTTP \(status) — is api_url right (\(URLRedaction.url(app.apiURL)))?")
            case .transportFailure(let message): check.add(false, "apps.connections.open: \(message)")
            }
        } catch {
            check.add(false, "apps.connections.open: \(error.description)")
        }
        if let bot = app.botToken {
            do {
                let identity = try await BotIdentity.fetch(token: bot, apiURL: app.apiURL, runtime: runtime, environment: environment)
                check.add(true, "auth.test: team \(identity.teamID ?? "?") (\(identity.team ?? "?")), bot user \(identity.userID ?? "?"), bot id \(identity.botID ?? "?")")
                let missing = Manifest.requiredScopes(for: app).subtracting(identity.scopes)
                if identity.scopes.isEmpty {
                    check.add(true, "scopes: Slack did not list the token's scopes; cannot compare")
                } else if missing.isEmpty {
                    check.add(true, "scopes: the routes need nothing the bot token lacks")
                } else {
                    check.add(false, "scopes: the routes need \(missing.sorted().joined(separator: ", ")), which the bot token lacks (add them, reinstall the app)")
                }
            } catch {
                check.add(false, "auth.test with the bot token: \(error.description) — \(explain(error.description))")
            }
        } else {
            check.add(true, "no bot_token: scopes and the own-message filter are not checked")
        }
        if let probe {
            await check.probe(runtime: runtime, within: probe, environment: environment)
        } else {
            check.add(true, "connections: shared by the cluster's nodes (no probe connection: see the status page's cluster table)")
        }
        return check
    }

    /// Records a finding; a URL in it (an error may name one) loses credentials and query.
    mutating func add(_ ok: Bool, _ text: String) { findings.append(Finding(ok: ok, text: URLRedaction.urls(in: text))) }

    /// Opens one connection, reads Slack's count of the app's connections from `hello`.
    private mutating func probe(runtime: SocketModeRuntime, within limit: Duration, environment: [String: String]) async {
        var options = SocketModeOptions()
        options.apiBaseURL = app.apiURL
        options.poolSize = 1
        options.ackMode = .manual
        options.ackGuard = nil
        options.runtime = runtime
        options.environment = environment
        let client: SocketModeClient
        do {
            client = try SocketModeClient(appToken: app.appToken, options: options)
        } catch {
            return add(false, "probe connection: \(error)")
        }
        // Never keep what Slack sends the probe: nacked, it is redelivered elsewhere.
        let nacking = Task { do { for try await event in client.events { try? event.nack() } } catch {} }
        let deadline = ContinuousClock.now + limit
        while client.stats.liveConnections == 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        let counted: Int64?? = client.stats.liveConnections > 0 ? .some(client.stats.pool.slackConnectionCount) : nil
        await client.stop()
        nacking.cancel()
        switch counted {
        case .some(.some(let count)) where count > 1:
            add(false, "connections: Slack counts \(count) for this app, the probe's and \(count - 1) more: another process is receiving (a share of) this app's events")
        case .some(.some(let count)):
            add(true, "connections: Slack counts \(count), the probe's own: no other process holds connections for this app")
        case .some(.none):
            add(true, "connections: hello did not say how many connections Slack counts")
        case .none:
            add(false, "probe connection: no hello within \(limit)")
        }
    }

    /// What an error code usually means.
    static func explain(_ code: String) -> String {
        switch code {
        case "invalid_auth", "not_authed": "the token is wrong or was revoked"
        case "not_allowed_token_type": "Socket Mode needs the app-level xapp- token here"
        case "missing_scope": "the app-level token lacks connections:write"
        case "token_revoked", "token_expired": "create a new token"
        case "account_inactive": "the token's user or workspace is deactivated"
        case "ratelimited": "Slack rate-limited the call; try again shortly"
        default: "see Slack's documentation of this error"
        }
    }

    /// A token with its secret part hidden.
    static func redacted(_ token: String) -> String {
        let parts = token.split(separator: "-", omittingEmptySubsequences: false)
        return parts.count > 2 ? parts.prefix(2).joined(separator: "-") + "-…" : "…"
    }
}
