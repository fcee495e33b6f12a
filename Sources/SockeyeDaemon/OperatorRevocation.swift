import Sockeye
import SockeyeInstallations

/// `sockeyed installations revoke`: tells Slack to revoke an installation's tokens
/// (`auth.revoke`, once per token: the bot's, then the installer's) and marks it revoked in
/// the store, so the daemon stops using it. A token Slack already considers dead
/// (`invalid_auth`, `token_revoked`, `account_inactive`) counts as revoked; any other failure
/// leaves the installation active and is reported, so the operator can try again.
public enum OperatorRevocation {
    /// What happened, one line per step, and whether the installation is now revoked.
    public struct Outcome: Sendable {
        public var lines: [String] = []
        public var revoked = false
    }

    public static func revoke(_ installation: Installation, store: InstallationStore, apiURL: String, runtime: SocketModeRuntime,
                              environment: [String: String]) async -> Outcome {
        var outcome = Outcome()
        let tokens = [("bot", installation.bot?.token), ("user", installation.user?.token)].compactMap { kind, token in token.map { (kind, $0) } }
        for (kind, token) in tokens {
            do {
                let response = try await runtime.callWebAPI(method: "auth.revoke", token: token, apiBaseURL: apiURL, environment: environment)
                do throws(WebAPIError) {
                    _ = try WebAPIError.object(response, method: "auth.revoke")
                    outcome.lines.append("auth.revoke (\(kind) token): revoked")
                } catch .api(let code) where TokenFailure(code: code) == .revoked {
                    outcome.lines.append("auth.revoke (\(kind) token): \(code) (already dead)")
                } catch {
                    outcome.lines.append("auth.revoke (\(kind) token) failed: \(error.description); the installation stays active")
                    return outcome
                }
            } catch {
                outcome.lines.append("auth.revoke (\(kind) token) failed: \(error.description); the installation stays active")
                return outcome
            }
        }
        do throws(InstallationStoreError) {
            // The daemon may have revoked it meanwhile: Slack sends `tokens_revoked` as soon
            // as auth.revoke answers.
            let changed = try store.revoke(id: installation.id, reason: "revoked by operator")
            let state = try store.summary(id: installation.id)?.state
            outcome.revoked = changed || state == .revoked
            outcome.lines.append(changed ? "\(installation.id): revoked and its tokens deleted"
                                         : "\(installation.id): revoked (the daemon saw Slack's tokens_revoked first)")
        } catch {
            outcome.lines.append("the installation store: \(error.description)")
        }
        return outcome
    }
}
