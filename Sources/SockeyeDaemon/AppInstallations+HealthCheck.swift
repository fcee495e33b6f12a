import Logging
import SockeyeInstallations

/// The installations' health check: each active installation's token is tried with
/// `auth.test` once per `oauth.check_interval` (6 h by default), one installation at a time,
/// spread evenly over the period. Slack sends no event when a workspace is deleted or a token
/// dies otherwise; the answer does tell: `invalid_auth`, `account_inactive` and
/// `token_revoked` revoke the installation, `token_expired` asks for a refresh
/// (`tokenFailed`). A call that does not get through (Slack unreachable) changes nothing.
extension AppInstallations {
    /// Runs until cancelled (it ends with the app, like the rotation). Also purges revoked
    /// rows past their retention once a day.
    func runHealthChecks() async {
        let period = settings.checkIntervalSeconds > 0 ? settings.checkIntervalSeconds : 3_600
        var position = 0
        var lastPurge = ContinuousClock.now
        while !Task.isCancelled {
            if ContinuousClock.now - lastPurge > .seconds(86_400) {
                purge()
                lastPurge = ContinuousClock.now
            }
            guard settings.checkIntervalSeconds > 0 else {
                try? await Task.sleep(for: .seconds(period))
                continue
            }
            let ids = (try? store.activeInstallations().map(\.id)) ?? []
            // At most one call a second, at least one per period per installation.
            let pause = max(1, period / Double(max(ids.count, 1)))
            try? await Task.sleep(for: .seconds(pause))
            guard !Task.isCancelled, !ids.isEmpty else { continue }
            await checkHealth(of: ids[position % ids.count])
            position &+= 1
        }
    }

    /// One installation's check: `auth.test` with its bot token (or its user token when it has
    /// no bot).
    func checkHealth(of id: String) async {
        guard let installation = try? store.installation(id: id), let token = installation.bot?.token ?? installation.user?.token else {
            return
        }
        do throws(WebAPIError) {
            _ = try await BotIdentity.fetch(token: token, apiURL: apiURL, runtime: runtime, environment: environment)
        } catch .api(let code) {
            logger.warning("installation health check: auth.test answered an error",
                           metadata: ["installation": .string(id), "error": .string(code)])
            _ = tokenFailed(id, code: code)
        } catch {
            logger.debug("installation health check did not get through", metadata: ["installation": .string(id),
                                                                                   "error": .string(error.description)])
        }
    }
}
