import Foundation
import Sockeye
import SockeyeInstallations

/// `sockeyed check` for an app installed by OAuth: the client credentials (an exchange of a
/// code that cannot exist: Slack answers `invalid_code` only once it accepted the client id
/// and secret) and the installation store (readable, how many installations).
extension AppCheck {
    mutating func checkOAuth(runtime: SocketModeRuntime, environment: [String: String]) async {
        guard let oauth = app.oauth else { return }
        do throws(OAuthCallError) {
            let body = try await OAuthCall.access(arguments: [("code", "sockeyed-check-not-a-code"), ("redirect_uri", oauth.redirectURL)],
                                                  settings: oauth, apiURL: app.apiURL, runtime: runtime, environment: environment)
            do {
                _ = try OAuthGrant.read(body, now: 0)
                add(false, "oauth.v2.access accepted a made-up code: is api_url Slack's?")
            } catch .api(let code) where code == "invalid_code" || code == "code_already_used" {
                add(true, "oauth: client_id \(oauth.clientID) and its client secret are accepted by oauth.v2.access")
            } catch .api(let code) {
                add(false, "oauth.v2.access: \(code) — " + (code == "invalid_client_id" || code == "bad_client_secret"
                    ? "check client_id and client_secret against the app's Basic Information" : "see Slack's docs for oauth.v2.access"))
            } catch {
                add(false, "oauth.v2.access: \(error.description)")
            }
        } catch {
            add(false, "oauth.v2.access: \(error.description)")
        }
        guard FileManager.default.fileExists(atPath: oauth.storePath) else {
            add(true, "installation store \(oauth.storePath): not created yet (no install so far)")
            return
        }
        do {
            let store = try InstallationStore(path: oauth.storePath, clientID: oauth.clientID, options: .init(readOnly: true))
            let summaries = try store.summaries(includeRevoked: true)
            let active = summaries.filter { $0.state == .active }.count
            add(true, "installation store \(oauth.storePath): \(active) active installation(s), \(summaries.count - active) revoked")
        } catch {
            add(false, "installation store: \(error.description)")
        }
        add(true, "install page \(oauth.installPath) and redirect \(oauth.redirectPath) on the public listener; "
            + "the app's Redirect URLs must include \(oauth.redirectURL)")
    }
}
