import Logging
import Metrics
import SockeyeInstallations
import SockeyeSinkKit

/// Token rotation, carried out: the loop that refreshes the installations `TokenRotation`
/// says are due, with `oauth.v2.access` (`grant_type=refresh_token`, as the app), and
/// stores each new pair with the store's compare-and-swap on the refresh token exchanged.
///
/// Each pass reads the store's active installations again (the directory and the schedule
/// follow another process's changes within `TokenRotator.maxSleepSeconds`), refreshes the
/// due ones (a few at a time; in a cluster only under the installation's lock), then sleeps
/// until the next is due, at most 30 s, or until `rotationExpired(_:)` wakes it. A refresh
/// that has begun is finished even when the loop is cancelled: Slack revokes the old refresh
/// token as it answers, so the new pair must reach the store.
///
/// Metrics: `sockeyed_token_refreshes_total{app,outcome}` (`refreshed`, `failed`,
/// `already_rotated`, `busy`) and `sockeyed_installations{app,state}` (`active`,
/// `refresh_failing`). Logs name installations by id, never a token.
extension AppInstallations {
    /// Runs the rotation until the task is cancelled (`AppRunner.run` starts and cancels it).
    func runRotation() async {
        while !Task.isCancelled {
            await rotationPass()
            if Task.isCancelled { break }
            // A floor, so nothing can make the loop spin.
            await rotator.wakeup.wait(upTo: max(rotator.sleepSeconds(now: rotator.now()), 0.05))
        }
    }

    /// A call with installation `id`'s token answered `token_expired`: refresh it now (after
    /// any back-off in progress). Safe from any task; the loop does the refresh.
    func rotationExpired(_ id: String) {
        var known = rotator.schedule.withLock { $0.expired(id: id) }
        if !known, let installations = try? store.activeInstallations() {
            // Installed since the last pass: the schedule learns it first.
            known = rotator.schedule.withLock { schedule in
                schedule.update(installations)
                return schedule.expired(id: id)
            }
        }
        if known { rotator.wakeup.signal() }
    }

    /// One pass: read the store, refresh what is due, record the outcomes.
    func rotationPass() async {
        do {
            let active = try store.activeInstallations()
            directory.replace(with: active)
            rotator.schedule.withLock { $0.update(active) }
        } catch {
            logger.error("could not read the installation store", metadata: ["error": .string(error.description)])
        }
        let due = rotator.schedule.withLock { $0.takeDue(now: rotator.now()) }
        if !due.isEmpty {
            await withTaskGroup(of: Void.self) { group in
                var started = 0
                for id in due {
                    if started >= TokenRotator.concurrency { _ = await group.next() }
                    guard !Task.isCancelled else {
                        // Stopping: not begun, so handed back (a later run takes it again).
                        rotator.schedule.withLock { $0.finish(id: id, outcome: .busy, now: rotator.now(), jitter: 0) }
                        continue
                    }
                    started += 1
                    group.addTask {
                        // Unstructured: the loop's cancellation does not abandon an exchange
                        // Slack may already have answered.
                        let (outcome, current) = await Task { await self.rotate(id) }.value
                        self.record(id, outcome: outcome, current: current)
                    }
                }
            }
            refresh()
        }
        let failing = rotator.schedule.withLock { $0.failing.count }
        Gauge(label: "sockeyed_installations", dimensions: [("app", name), ("state", "active")]).record(directory.count)
        Gauge(label: "sockeyed_installations", dimensions: [("app", name), ("state", "refresh_failing")]).record(failing)
    }

    /// The outcome into the schedule, the metrics, the log and the status page's notes.
    private func record(_ id: String, outcome: TokenRotation.Outcome, current: Installation?) {
        var generator = SystemRandomNumberGenerator()
        let jitter = Double.random(in: 0...1, using: &generator)
        let now = rotator.now()
        let retryAt = rotator.schedule.withLock { schedule -> Double? in
            schedule.finish(id: id, outcome: outcome, now: now, jitter: jitter, current: current)
            return schedule.retryAt(of: id)
        }
        let installation: Logger.MetadataValue = .string(id)
        switch outcome {
        case .refreshed:
            count("refreshed")
            notes.withLock { $0[id] = nil }
            logger.info("tokens refreshed", metadata: ["installation": installation,
                                                       "expires_at": .stringConvertible(current?.earliestExpiry ?? 0)])
        case .alreadyRotated:
            count("already_rotated")
            notes.withLock { $0[id] = nil }
            logger.info("tokens already refreshed by another process", metadata: ["installation": installation])
        case .failed(let reason, let retryable):
            count("failed")
            notes.withLock { $0[id] = "token refresh failed: \(reason)" }
            let wait = retryAt.map { max(0, (($0 - now) * 10).rounded() / 10) } ?? 0
            logger.error("token refresh failed", metadata: ["installation": installation, "error": .string(reason),
                                                            "retryable": .stringConvertible(retryable),
                                                            "retry_in_seconds": .stringConvertible(wait)])
        case .busy:
            count("busy")
            logger.debug("another node is refreshing", metadata: ["installation": installation])
        case .gone:
            break
        }
    }

    private func count(_ outcome: String) {
        Counter(label: "sockeyed_token_refreshes_total", dimensions: [("app", name), ("outcome", outcome)]).increment()
    }

    /// Refreshes installation `id`'s due tokens, under the cluster's lock when there is one.
    func rotate(_ id: String) async -> (TokenRotation.Outcome, Installation?) {
        guard let lock = rotator.lock else { return await exchange(id) }
        let key = "\(name).rotate.\(id)"
        guard await lock.acquire(key, leaseSeconds: TokenRotator.leaseSeconds) else { return (.busy, nil) }
        let result = await exchange(id)
        await lock.release(key)
        return result
    }

    /// Reads installation `id` again, then refreshes the bot's and then the user's token if
    /// each is still due, storing each new pair before the next call.
    private func exchange(_ id: String) async -> (TokenRotation.Outcome, Installation?) {
        let fresh: Installation
        do {
            guard let found = try store.installation(id: id) else { return (.gone, nil) }
            fresh = found
        } catch {
            return (.failed(reason: "the installation store: \(error.description)", retryable: true), nil)
        }
        let kinds = rotator.schedule.withLock { $0.kindsToRefresh(fresh, now: rotator.now()) }
        guard !kinds.isEmpty else { return (.alreadyRotated, fresh) }
        var current = fresh
        for kind in kinds {
            let step = await exchange(kind, of: current)
            switch step {
            case .stored(let next): current = next
            case .ended(let outcome, let installation): return (outcome, installation ?? (current == fresh ? nil : current))
            }
        }
        return (.refreshed, current)
    }

    private enum Step {
        case stored(Installation)
        case ended(TokenRotation.Outcome, Installation?)
    }

    /// One token's refresh: the call, its answer, the compare-and-swap.
    private func exchange(_ kind: TokenRotation.Kind, of installation: Installation) async -> Step {
        let id = installation.id
        guard let refreshToken = kind == .bot ? installation.bot?.refreshToken : installation.user?.refreshToken else {
            return .stored(installation)
        }
        let refreshed: RefreshedToken
        do throws(OAuthCallError) {
            let body = try await OAuthCall.access(arguments: [("grant_type", "refresh_token"), ("refresh_token", refreshToken)],
                                                  settings: settings, apiURL: apiURL, runtime: runtime, environment: environment)
            do {
                refreshed = try RefreshedToken.read(body, now: rotator.nowSeconds())
            } catch {
                throw .answer(error)
            }
        } catch {
            return await refusal(error, kind: kind, exchanged: refreshToken, id: id)
        }
        guard refreshed.tokenType == kind.rawValue else {
            return .ended(.failed(reason: "oauth.v2.access answered a \(refreshed.tokenType) token for the \(kind.rawValue) token", retryable: false), nil)
        }
        var bot: BotCredentials?
        var user: UserCredentials?
        switch kind {
        case .bot:
            guard let old = installation.bot else { return .stored(installation) }
            bot = BotCredentials(token: refreshed.token, botID: old.botID, botUserID: old.botUserID,
                                 scopes: refreshed.scopes.isEmpty ? old.scopes : refreshed.scopes,
                                 refreshToken: refreshed.refreshToken, expiresAt: refreshed.expiresAt)
        case .user:
            guard let old = installation.user else { return .stored(installation) }
            user = UserCredentials(token: refreshed.token, scopes: refreshed.scopes.isEmpty ? old.scopes : refreshed.scopes,
                                   refreshToken: refreshed.refreshToken, expiresAt: refreshed.expiresAt)
        }
        return await storePair(kind, bot: bot, user: user, exchanged: refreshToken, id: id)
    }

    /// Stores a new pair (the old refresh token no longer works: a store that is busy is
    /// tried a few times before giving up).
    private func storePair(_ kind: TokenRotation.Kind, bot: BotCredentials?, user: UserCredentials?, exchanged: String, id: String) async -> Step {
        var lastError = ""
        for attempt in 0..<3 {
            if attempt > 0 { try? await Task.sleep(for: .seconds(1)) }
            do {
                let result = try store.rotate(id: id, bot: bot, user: user,
                                              expectedBotRefreshToken: kind == .bot ? exchanged : nil,
                                              expectedUserRefreshToken: kind == .user ? exchanged : nil,
                                              now: rotator.nowSeconds())
                switch result {
                case .stored:
                    guard let stored = try store.installation(id: id) else { return .ended(.gone, nil) }
                    return .stored(stored)
                case .alreadyRotated(let current):
                    // Another process stored its pair first: its tokens are kept.
                    logger.warning("another process rotated the tokens first; keeping its tokens",
                                   metadata: ["installation": .string(id), "token": .string(kind.rawValue)])
                    return .ended(.alreadyRotated, current)
                case .notFound, .revoked:
                    return .ended(.gone, nil)
                }
            } catch {
                lastError = error.description
            }
        }
        logger.critical("new tokens could not be stored; the installation needs to be installed again if this persists",
                        metadata: ["installation": .string(id), "error": .string(lastError)])
        return .ended(.failed(reason: "the installation store: \(lastError)", retryable: true), nil)
    }

    /// How long after `invalid_refresh_token` the store is read a second time.
    static var settleDelay: Duration { .seconds(1) }

    /// What a refused refresh means. `invalid_refresh_token`: another process may have
    /// exchanged it first (then its tokens are in the store); else the installation cannot be
    /// refreshed now (reported, retried after the longest wait: never revoked for this).
    /// `invalid_auth`, `token_revoked`, `account_inactive`: revoked (`tokenFailed`).
    private func refusal(_ error: OAuthCallError, kind: TokenRotation.Kind, exchanged: String, id: String) async -> Step {
        guard case .answer(.api(let code)) = error else {
            return .ended(.failed(reason: "oauth.v2.access: \(error.description)", retryable: !error.isClientError), nil)
        }
        if code == "invalid_refresh_token" {
            // Read twice: the process that won may be storing its pair as Slack answers us.
            for attempt in 0..<2 {
                if attempt > 0 { try? await Task.sleep(for: Self.settleDelay) }
                let again: Installation?
                do {
                    again = try store.installation(id: id)
                } catch {
                    return .ended(.failed(reason: code, retryable: true), nil)
                }
                guard let again else { return .ended(.gone, nil) }
                let stored = kind == .bot ? again.bot?.refreshToken : again.user?.refreshToken
                if stored != exchanged { return .ended(.alreadyRotated, again) }
            }
            return .ended(.failed(reason: code, retryable: false), nil)
        }
        if TokenFailure(code: code) == .revoked {
            _ = tokenFailed(id, code: code)
            return .ended(.failed(reason: code, retryable: false), nil)
        }
        return .ended(.failed(reason: "oauth.v2.access: \(code)", retryable: !error.isClientError), nil)
    }
}
