import Foundation
import Logging
import Metrics
import Sockeye
import SockeyeInstallations
import SockeyeSinkKit
import Synchronization

/// The installations of one app installed by OAuth, at run time: the store, the directory
/// every event is authorized against, the "Add to Slack" flow, the lifecycle events and the
/// token failures that revoke an installation.
///
/// The directory is rebuilt from the store after every change this process makes (an
/// install, a revocation, a rotation) and when the store is read again (`refresh`), so an
/// event is authorized against the store's state of a moment ago, with one lock and a
/// dictionary lookup. Safe from any thread; store writes run on the caller's task (SQLite
/// transactions of a few milliseconds, for rare events only).
public final class AppInstallations: InstallEndpoint {
    public let name: String
    let settings: OAuthSettings
    let apiURL: String
    public let store: InstallationStore
    public let directory: InstallationDirectory
    let flow: InstallFlow
    private let used = Mutex(UsedStates())
    private let exchanges = Atomic<Int>(0)
    /// Why installations were last refused or failed (id → note), for the status page.
    let notes = Mutex<[String: String]>([:])
    /// Token rotation's schedule, lock and clock (`AppInstallations+Rotation`).
    let rotator: TokenRotator
    /// Sharing with the other nodes of a cluster (`AppInstallations+Sharing`); nil on a single node.
    let sync: InstallationSync?
    let runtime: SocketModeRuntime
    let logger: Logger
    let environment: [String: String]

    /// Opens the store of `app` (which must have an `oauth:` block) and loads its active
    /// installations. `installationLock`: the cluster's lock on refreshing an installation
    /// (nil: a single node). `replica`: how the installations are shared with the other nodes
    /// (nil: a single node).
    public init(app: AppSettings, runtime: SocketModeRuntime, logger: Logger,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                installationLock: (any InstallationLock)? = nil, replica: (any InstallationReplica)? = nil) throws(InstallationStoreError) {
        guard let oauth = app.oauth else { preconditionFailure("AppInstallations for an app without oauth:") }
        name = app.name
        settings = oauth
        apiURL = app.apiURL
        self.runtime = runtime
        self.logger = logger
        self.environment = environment
        store = try InstallationStore(path: oauth.storePath, clientID: oauth.clientID, options: .init(logger: logger))
        for warning in store.warnings { logger.warning("\(warning)") }
        directory = InstallationDirectory(try store.activeInstallations())
        sync = replica.map { [store, directory] in InstallationSync(app: app.name, store: store, directory: directory, replica: $0, logger: logger) }
        rotator = TokenRotator(policy: .init(refreshAheadSeconds: oauth.refreshAheadSeconds),
                               lock: sync?.rotationLock(over: installationLock) ?? installationLock)
        flow = InstallFlow(settings: .init(appName: app.name, clientID: oauth.clientID, scopes: oauth.scopes, userScopes: oauth.userScopes,
                                           redirectURL: oauth.redirectURL, redirectPath: oauth.redirectPath,
                                           authorizeURL: oauth.authorizeURL, acceptsInstallsWithoutState: oauth.acceptsInstallsWithoutState),
                           clientSecret: oauth.clientSecret)
        logger.info("installations loaded", metadata: ["active": .stringConvertible(directory.count), "store": .string(oauth.storePath)])
        purge()
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    /// Reads the active installations again (after another process changed the store, or
    /// after a change of this one).
    func refresh() {
        do {
            directory.replace(with: try store.activeInstallations())
        } catch {
            logger.error("could not read the installation store", metadata: ["error": .string(error.description)])
        }
    }

    // MARK: The install flow

    public func installPage() -> InstallPage {
        var generator = SystemRandomNumberGenerator()
        let random = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return InstallPage(flow.installPage(now: Self.now(), random: random))
    }

    public func completeInstall(query: String, cookieHeader: String?) async -> InstallPage {
        let now = Self.now()
        switch flow.handleReturn(query: query, cookieHeader: cookieHeader, now: now) {
        case .refuse(let page, let reason):
            logger.warning("install refused", metadata: ["reason": .string(reason)])
            return InstallPage(page)
        case .exchange(let code, let nonce, let expiresAt):
            if let nonce, let expiresAt {
                switch used.withLock({ $0.redeem(nonce, expiresAt: expiresAt, now: now) }) {
                case .first: break
                case .replayed:
                    logger.warning("install refused", metadata: ["reason": "replayed state"])
                    return InstallPage(flow.replayed())
                case .full:
                    logger.warning("install refused", metadata: ["reason": "too many installs in progress"])
                    return InstallPage(flow.busy())
                }
            } else {
                logger.notice("install without a state accepted (accept_installs_without_state)")
            }
            // Every exchange is a call to Slack on a stranger's request: a few at a time, so
            // a flood of redirects cannot get the app rate-limited.
            guard exchanges.add(1, ordering: .sequentiallyConsistent).newValue <= Self.maxExchanges else {
                exchanges.subtract(1, ordering: .sequentiallyConsistent)
                logger.warning("install refused", metadata: ["reason": "too many code exchanges in progress"])
                return InstallPage(flow.busy())
            }
            defer { exchanges.subtract(1, ordering: .sequentiallyConsistent) }
            return await exchange(code: code)
        }
    }

    /// Code exchanges in progress, and the most allowed at once.
    static let maxExchanges = 8

    /// Exchanges `code` for tokens, learns the bot's id, stores the installation.
    private func exchange(code: String) async -> InstallPage {
        let grant: OAuthGrant
        do throws(OAuthCallError) {
            let body = try await OAuthCall.access(arguments: [("code", code), ("redirect_uri", settings.redirectURL)],
                                                  settings: settings, apiURL: apiURL, runtime: runtime, environment: environment)
            do {
                grant = try OAuthGrant.read(body, now: Self.now())
            } catch {
                throw .answer(error)
            }
        } catch {
            logger.warning("install failed: oauth.v2.access", metadata: ["error": .string(error.description)])
            return InstallPage(flow.failure(status: error.isClientError ? 400 : 502, "Slack did not grant the installation (\(error.description))."))
        }
        var installation = grant.installation
        if let token = installation.bot?.token {
            do throws(WebAPIError) {
                let identity = try await BotIdentity.fetch(token: token, apiURL: apiURL, runtime: runtime, environment: environment)
                installation.bot?.botID = identity.botID ?? ""
            } catch {
                // The install stands without the bot id: own messages are then recognized by
                // the bot's user id alone.
                logger.warning("auth.test with the new bot token failed", metadata: ["installation": .string(installation.id),
                                                                                   "error": .string(error.description)])
            }
        }
        do {
            let stored = try store.save(installation, now: Self.now())
            refresh()
            await sharedNow(stored.id)
            notes.withLock { $0[stored.id] = nil }
            logger.notice("installed", metadata: ["installation": .string(stored.id), "team": .string(stored.teamID ?? "-"),
                                                  "enterprise": .string(stored.enterpriseID ?? "-"),
                                                  "org_wide": .stringConvertible(stored.isEnterpriseInstall)])
            Counter(label: "sockeyed_installs_total", dimensions: [("app", name)]).increment()
            return InstallPage(flow.success(stored))
        } catch {
            logger.error("install failed: the installation store", metadata: ["error": .string(error.description)])
            return InstallPage(flow.failure(status: 500, "The installation could not be stored; nothing was installed. Try again later."))
        }
    }

    // MARK: Revocation

    /// Marks installation `id` revoked for `reason` (idempotent): its tokens leave the store
    /// and the directory, so no further call uses them. Returns whether it was active.
    @discardableResult
    func revoke(_ id: String, reason: String) -> Bool {
        do {
            let changed = try store.revoke(id: id, reason: reason, now: Self.now())
            refresh()
            if changed {
                shared(id)
                logger.notice("installation revoked", metadata: ["installation": .string(id), "reason": .string(reason)])
                Counter(label: "sockeyed_installations_revoked_total", dimensions: [("app", name)]).increment()
            }
            return changed
        } catch {
            logger.error("could not revoke an installation", metadata: ["installation": .string(id), "error": .string(error.description)])
            // Even if the store failed, the directory stops authorizing it until a restart.
            directory.replace(with: ((try? store.activeInstallations()) ?? []).filter { $0.id != id })
            return false
        }
    }

    /// Carries out what the lifecycle events among `records` ask (`InstallationLifecycle`).
    /// Cheap for every other event: a set lookup on its type.
    func observe(_ records: [EventRecord]) {
        for record in records where record.eventType.map(InstallationLifecycle.eventTypes.contains) == true {
            let actions = InstallationLifecycle.actions(for: record) { [store] id in try? store.installation(id: id) }
            for action in actions {
                switch action {
                case .revoke(let id, let reason):
                    revoke(id, reason: reason)
                case .revokeUserTokens(let id, let users):
                    do {
                        if try store.revokeUserTokens(id: id, userIDs: users, now: Self.now()) {
                            logger.notice("user tokens revoked", metadata: ["installation": .string(id), "users": .stringConvertible(users.count)])
                            refresh()
                            shared(id)
                        }
                    } catch {
                        logger.error("could not drop revoked user tokens", metadata: ["installation": .string(id), "error": .string(error.description)])
                    }
                case .revokeTeams(let teams, let reason):
                    let affected = ((try? store.activeInstallations()) ?? []).filter {
                        !$0.isEnterpriseInstall && $0.teamID.map(teams.contains) == true
                    }
                    for installation in affected { revoke(installation.id, reason: reason) }
                }
            }
        }
    }

    /// What a Web API call made with installation `id`'s token answered: `invalid_auth`,
    /// `account_inactive` and `token_revoked` revoke it; `token_expired` asks for a rotation
    /// (returned true); anything else is only noted.
    func tokenFailed(_ id: String, code: String) -> TokenFailure {
        let failure = TokenFailure(code: code)
        switch failure {
        case .revoked: revoke(id, reason: code)
        case .expired:
            notes.withLock { $0[id] = code }
            rotationExpired(id)
        case .other: notes.withLock { $0[id] = code }
        }
        return failure
    }

    // MARK: Reading

    /// Installation `id`'s bot token, when it is active (a command sink that opted in).
    func botToken(for id: String) -> String? {
        guard let installation = try? store.installation(id: id), directory.isActive(id) else { return nil }
        return installation.bot?.token
    }

    /// The installations for the status page (revoked ones included, until purged).
    func snapshots() -> [InstallationSnapshot] {
        let summaries = (try? store.summaries(includeRevoked: true)) ?? []
        let noted = notes.withLock { $0 }
        return summaries.map { summary in
            InstallationSnapshot(id: summary.id, name: summary.isEnterpriseInstall ? summary.enterpriseName : summary.teamName,
                                 isEnterpriseInstall: summary.isEnterpriseInstall, state: summary.state.rawValue,
                                 note: summary.reason ?? noted[summary.id], expiresAt: summary.expiresAt)
        }
    }

    /// Deletes revoked rows older than the retention period.
    func purge() {
        do {
            let purged = try store.purgeRevoked(olderThan: Int64(settings.retentionSeconds), now: Self.now())
            if purged > 0 { logger.info("purged revoked installations", metadata: ["count": .stringConvertible(purged)]) }
        } catch {
            logger.warning("could not purge revoked installations", metadata: ["error": .string(error.description)])
        }
    }
}

/// What a Web API error code means for the installation whose token was used.
enum TokenFailure: Sendable, Equatable {
    /// `invalid_auth`, `account_inactive`, `token_revoked`: never use the tokens again.
    case revoked
    /// `token_expired`: rotate, do not delete.
    case expired
    case other

    init(code: String) {
        switch code {
        case "invalid_auth", "account_inactive", "token_revoked": self = .revoked
        case "token_expired": self = .expired
        default: self = .other
        }
    }
}

extension InstallPage {
    init(_ page: InstallFlow.Page) {
        self.init(status: page.status, html: page.html, headers: page.headers)
    }
}
