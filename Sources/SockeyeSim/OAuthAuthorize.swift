import Foundation

/// `GET` and `POST /oauth/v2/authorize` (Slack's `https://slack.com/oauth/v2/authorize`):
/// the consent page, then a `302` back to the app's redirect URL with a code (approve) or
/// `error=access_denied` (deny). Decisions only: a request and the time in, a response out.
///
/// Parameters: `client_id`, `scope`, `user_scope`, `redirect_uri`, `state`, `team`
/// (preselects a workspace); the POST adds `workspace` (a team id, or an enterprise id for
/// an org-wide install) and `decision` (`approve` or `deny`). Sim only: a GET with
/// `sim_decision=approve|deny` and `sim_workspace=T…|E…` decides at once, for tests without
/// a browser. An unknown client, a redirect URL the app does not allow, no scope at all or
/// an unknown workspace get an HTML error page (400) instead of a redirect, as Slack shows one.
enum OAuthAuthorize {
    static let path = "/oauth/v2/authorize"

    static func handle(_ r: HTTPRequest, oauth: OAuthState, now: Double) -> WebAPIResponse {
        let post = r.method == "POST"
        let p = post ? RequestParams.all(r) : RequestParams.query(r)
        guard let clientID = p["client_id"], let client = oauth.client(id: clientID), let settings = oauth.oauthClient(client) else {
            return failure("invalid_client_id", "Unknown client_id: no app of this Slack has it.", oauth: oauth, client: nil)
        }
        let given = p["redirect_uri"].flatMap { $0.isEmpty ? nil : $0 }
        if let given, !settings.redirectURLs.isEmpty, !settings.redirectURLs.contains(given) {
            return failure("bad_redirect_uri", "redirect_uri did not match any configured redirect URL of the app.", oauth: oauth, client: client)
        }
        guard let redirect = given ?? settings.redirectURLs.first, isRedirectURL(redirect) else {
            return failure("bad_redirect_uri", "No usable redirect_uri: give an absolute http(s) URL without a fragment, or configure one for the app.",
                           oauth: oauth, client: client)
        }
        let botScopes = RequestParams.scopes(p["scope"])
        let userScopes = RequestParams.scopes(p["user_scope"])
        guard !botScopes.isEmpty || !userScopes.isEmpty else {
            return failure("invalid_scope", "Ask for at least one scope (scope or user_scope).", oauth: oauth, client: client)
        }
        let state = p["state"]
        let decision = post ? p["decision"] : p["sim_decision"]
        let workspace = post ? p["workspace"] : p["sim_workspace"]
        guard let decision else {
            if post { return failure("invalid_decision", "Choose approve or deny.", oauth: oauth, client: client) }
            oauth.counters[client].authorizePages += 1
            return .html(200, OAuthAuthorizePage.consent(consent(p, client: client, clientID: clientID, oauth: oauth,
                                                                  botScopes: botScopes, userScopes: userScopes)))
        }
        switch decision {
        case "deny":
            oauth.counters[client].denials += 1
            return .redirect(location(redirect, [("error", "access_denied")], state: state))
        case "approve":
            guard let id = workspace, let target = oauth.target(id) else {
                return failure("invalid_team", "Choose one of this Slack's workspaces or organizations.", oauth: oauth, client: client)
            }
            guard let code = oauth.issueCode(client: client, redirectURI: given, target: target, botScopes: botScopes,
                                             userScopes: userScopes, now: now)
            else { return failure("too_many_codes", "Too many authorization codes are waiting to be exchanged.", oauth: oauth, client: client) }
            oauth.counters[client].approvals += 1
            return .redirect(location(redirect, [("code", code)], state: state))
        default:
            return failure("invalid_decision", "Choose approve or deny.", oauth: oauth, client: client)
        }
    }

    /// The consent page's content; every parameter of the request is posted back.
    static func consent(_ p: [String: String], client: Int, clientID: String, oauth: OAuthState, botScopes: [String],
                        userScopes: [String]) -> OAuthAuthorizePage.Consent {
        let carried = ["client_id", "scope", "user_scope", "redirect_uri", "state", "team"]
        return OAuthAuthorizePage.Consent(
            appID: oauth.config.apps[client].appID, clientID: clientID, botScopes: botScopes, userScopes: userScopes,
            hidden: carried.compactMap { k in p[k].map { (k, $0) } }, workspaces: oauth.config.workspaces,
            enterprises: oauth.config.enterprises, preselected: p["team"])
    }

    /// An absolute `http://` or `https://` URL with a host and no fragment.
    static func isRedirectURL(_ s: String) -> Bool {
        guard let u = URL(string: s), let scheme = u.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = u.host, !host.isEmpty
        else { return false }
        return !s.contains("#")
    }

    /// `redirect` with `items` and `state` (when one was given, exactly as given) appended
    /// to its query, every value percent-encoded.
    static func location(_ redirect: String, _ items: [(String, String)], state: String?) -> String {
        var all = items
        if let state { all.append(("state", state)) }
        let query = all.map { "\($0.0)=\(RequestParams.encode($0.1))" }.joined(separator: "&")
        let separator = redirect.hasSuffix("?") || redirect.hasSuffix("&") ? "" : redirect.contains("?") ? "&" : "?"
        return redirect + separator + query
    }

    static func failure(_ code: String, _ message: String, oauth: OAuthState, client: Int?) -> WebAPIResponse {
        if let client { oauth.counters[client].authorizeErrors[code, default: 0] += 1 }
        return .html(400, OAuthAuthorizePage.error(code, message))
    }
}
