// The authorization section's workload: one app installed by OAuth 1 000 times, and Slack
// payloads from the workspaces of those installations (and from a few it is not installed in).
import SockeyeCore
import SockeyeInstallations
import SockeyeSinkKit

/// 1 000 installations of one app: 900 workspace installs (a third of them in Enterprise Grid
/// orgs where the app is installed per workspace) and 100 org-wide installs covering 3 to 10
/// teams each. Ids are Slack-shaped (`T0W000123`, `E0G000042`).
struct AuthorizationFleet: Sendable {
    static let appID = "A0BENCHAPP"
    static let workspaceInstalls = 900
    static let orgWideInstalls = 100

    /// Where an event comes from and the installation it must find (nil: none).
    struct Source: Sendable {
        var teamID: String
        var teamDomain: String
        var enterpriseID: String?
        var enterpriseName: String?
        var orgWide: Bool
        var botUserID: String
        var expected: String?
    }

    var installations: [Installation] = []
    /// The sources of each installation: its team, or the teams an org-wide install covers.
    var sources: [[Source]] = []
    /// Teams the app is not installed in: alone, or in an org that has only workspace installs.
    var unknown: [Source] = []
    var orgTeamsCovered = 0

    init() {
        for index in 0..<Self.workspaceInstalls {
            let team = "T0W" + Self.digits(index, 6)
            // Every third workspace is in one of 50 Grid orgs that installed the app per workspace.
            let org = index % 3 == 0 ? "E0P" + Self.digits(index / 18, 6) : nil
            let bot = Self.bot(kind: "W", index)
            installations.append(Installation(
                appID: Self.appID, enterpriseID: org, enterpriseName: org.map { "Org \($0)" },
                teamID: team, teamName: "Workspace \(index)", isEnterpriseInstall: false, bot: bot,
                installerUserID: "U0I" + Self.digits(index, 6), installedAt: 1_764_000_000 + Int64(index)))
            sources.append([Source(teamID: team, teamDomain: "ws\(index)", enterpriseID: org,
                                   enterpriseName: org.map { "Org \($0)" }, orgWide: false, botUserID: bot.botUserID, expected: team)])
        }
        for index in 0..<Self.orgWideInstalls {
            let org = "E0G" + Self.digits(index, 6)
            let bot = Self.bot(kind: "G", index)
            installations.append(Installation(
                appID: Self.appID, enterpriseID: org, enterpriseName: "Grid \(index)", enterpriseURL: "https://grid\(index).enterprise.slack.com/",
                teamID: nil, isEnterpriseInstall: true, bot: bot,
                installerUserID: "U0J" + Self.digits(index, 6), installedAt: 1_764_100_000 + Int64(index)))
            let teams = 3 + index % 8
            orgTeamsCovered += teams
            sources.append((0..<teams).map { team in
                Source(teamID: "T0G" + Self.digits(index, 3) + Self.digits(team, 3), teamDomain: "grid\(index)-\(team)",
                       enterpriseID: org, enterpriseName: "Grid \(index)", orgWide: true, botUserID: bot.botUserID, expected: org)
            })
        }
        for index in 0..<200 {
            let org = index % 2 == 0 ? nil : "E0P" + Self.digits(index % 50, 6)
            unknown.append(Source(teamID: "T0X" + Self.digits(index, 6), teamDomain: "stranger\(index)", enterpriseID: org,
                                  enterpriseName: org.map { "Org \($0)" }, orgWide: false, botUserID: "U0XBOT001", expected: nil))
        }
    }

    static func bot(kind: String, _ index: Int) -> BotCredentials {
        BotCredentials(token: "xoxb-17653672481-\(kind)\(digits(index, 10))-zJp8NeXoQCXRLnd5FcWcHGaQ",
                       botID: "B0\(kind)" + digits(index, 6), botUserID: "U0\(kind)" + digits(index, 6),
                       scopes: ["app_mentions:read", "channels:history", "chat:write", "commands", "reactions:read"])
    }

    static func digits(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }

    /// The installations as a later read of the store gives them, for a replacement `tick`:
    /// even ticks add a new workspace install (no event comes from it), odd ticks rotate one
    /// installation's bot token. No event's installation changes.
    func changed(tick: Int) -> [Installation] {
        var list = installations
        if tick % 2 == 0 {
            list.append(Installation(appID: Self.appID, teamID: "T0N" + Self.digits(tick % 1_000_000, 6), bot: Self.bot(kind: "N", tick),
                                     installerUserID: "U0N000001", installedAt: 1_765_000_000 + Int64(tick)))
        } else {
            let at = (tick / 2) % list.count
            list[at].bot?.token = "xoxe.xoxb-1-rotated-\(tick)"
            list[at].updatedAt += Int64(tick)
        }
        return list
    }
}

/// One event as the daemon holds it before its record is made: the envelope's fields and
/// Slack's payload, with the installation it must find.
struct AuthorizationEvent {
    enum Shape: String, CaseIterable {
        case message, reaction = "reaction_added", slashCommand = "slash_command", blockActions = "block_actions"
    }

    var shape: Shape
    var parts: EventRecord.Parts
    var payload: [UInt8]
    var expected: String?

    /// `count` events: 5 % from unknown teams, the rest from installations drawn uniformly
    /// over the whole set (an org-wide install's event from one of its teams); 45 % messages,
    /// 25 % reactions (Events API, with `authorizations`), 15 % slash commands
    /// (`is_enterprise_install` a string), 15 % block_actions (`team: null` and
    /// `user.team_id` for org-wide installs).
    static func make(_ fleet: AuthorizationFleet, count: Int, seed: UInt64) -> [AuthorizationEvent] {
        var random = SplitMix64(seed: seed)
        var events: [AuthorizationEvent] = []
        events.reserveCapacity(count)
        for index in 0..<count {
            let source: AuthorizationFleet.Source
            if random.next() % 1_000 < 50 {
                source = fleet.unknown[Int(random.next() % UInt64(fleet.unknown.count))]
            } else {
                let teams = fleet.sources[Int(random.next() % UInt64(fleet.sources.count))]
                source = teams[Int(random.next() % UInt64(teams.count))]
            }
            let draw = random.next() % 100
            let shape: Shape = draw < 45 ? .message : draw < 70 ? .reaction : draw < 85 ? .slashCommand : .blockActions
            events.append(event(shape, source, index: index))
        }
        return events
    }

    static func event(_ shape: Shape, _ s: AuthorizationFleet.Source, index: Int) -> AuthorizationEvent {
        let envelopeID = "5a1254d9-9a69-47e8-9f69-" + AuthorizationFleet.digits(index, 12)
        let eventID = "Ev0B" + AuthorizationFleet.digits(index, 8)
        let enterprise = s.enterpriseID.map { "\"\($0)\"" } ?? "null"
        let user = "U0U" + AuthorizationFleet.digits(index % 5_000, 6)
        // Events API wrapper fields, as Slack sends them to an app in a (Grid) workspace.
        let authorizations = #""authorizations":[{"enterprise_id":\#(enterprise),"team_id":"\#(s.teamID)","user_id":"\#(s.botUserID)","is_bot":true,"is_enterprise_install":\#(s.orgWide)}],"is_ext_shared_channel":false"#
        let wrapperHead = #"{"token":"XXYYZZ0123456789abcdefgh","team_id":"\#(s.teamID)","# + (s.enterpriseID.map { #""enterprise_id":"\#($0)","# } ?? "")
            + #""context_team_id":"\#(s.teamID)","context_enterprise_id":\#(enterprise),"api_app_id":"\#(AuthorizationFleet.appID)","#
        let json: String
        let parts: EventRecord.Parts
        switch shape {
        case .message:
            json = wrapperHead
                + #""event":{"type":"message","user":"\#(user)","text":"Grüße aus Zürich 🐟🚀 — naïve café, 日本語のテキスト, emoji :tada: 🎉👩🏽‍💻 <@\#(s.botUserID)> can you deploy api to prod?","ts":"1732390000.000100","team":"\#(s.teamID)","client_msg_id":"0f3b5a5e-2d5f-4b6b-9e0a-1c2d3e4f5a6b","channel":"C0BENCH01","event_ts":"1732390000.000100","channel_type":"channel","blocks":[{"type":"rich_text","block_id":"b1","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Grüße aus Zürich "},{"type":"emoji","name":"fish","unicode":"1f41f"},{"type":"text","text":" "},{"type":"user","user_id":"\#(s.botUserID)"},{"type":"text","text":" can you deploy api to prod?"}]}]}]},"#
                + #""type":"event_callback","event_id":"\#(eventID)","event_time":1732390000,"# + authorizations
                + #","event_context":"4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMFcwMDAxMjMiLCJhaWQiOiJBMEJFTkNIQVBQIiwiY2lkIjoiQzBCRU5DSDAxIn0"}"#
            parts = .init(envelopeType: "events_api", envelopeID: envelopeID, eventType: "message", payloadType: "event_callback",
                          team: s.teamID, eventID: eventID, retryAttempt: 0, retryReason: "", acceptsResponsePayload: false)
        case .reaction:
            json = wrapperHead
                + #""event":{"type":"reaction_added","user":"\#(user)","reaction":"thumbsup","item_user":"\#(s.botUserID)","item":{"type":"message","channel":"C0BENCH01","ts":"1700000000.000100"},"event_ts":"1700000001.000200"},"#
                + #""type":"event_callback","event_id":"\#(eventID)","event_time":1700000001,"# + authorizations
                + #","event_context":"4-eyJldCI6InJlYWN0aW9uX2FkZGVkIiwidGlkIjoiVDBXMDAwMTIzIn0"}"#
            parts = .init(envelopeType: "events_api", envelopeID: envelopeID, eventType: "reaction_added", payloadType: "event_callback",
                          team: s.teamID, eventID: eventID, retryAttempt: 0, retryReason: "", acceptsResponsePayload: false)
        case .slashCommand:
            let org = s.enterpriseID.map { #""enterprise_id":"\#($0)","enterprise_name":"\#(s.enterpriseName ?? "")","# } ?? ""
            json = #"{"token":"XXYYZZ0123456789abcdefgh","team_id":"\#(s.teamID)","team_domain":"\#(s.teamDomain)",\#(org)"channel_id":"C0BENCH01","channel_name":"général","user_id":"\#(user)","user_name":"jo","command":"\/deploy","text":"api prod 🚀","api_app_id":"\#(AuthorizationFleet.appID)","is_enterprise_install":"\#(s.orgWide)","response_url":"https:\/\/hooks.slack.com\/commands\/\#(s.teamID)\/8123456789012\/QvE4kX9qW3bYpL0mNcTzR7aH","trigger_id":"8123456789012.1765367248.e1d2c3b4a5968778695a4b3c2d1e0f9a"}"#
            parts = .init(envelopeType: "slash_commands", envelopeID: envelopeID, eventType: nil, payloadType: nil,
                          team: s.teamID, eventID: nil, retryAttempt: 0, retryReason: "", acceptsResponsePayload: true)
        case .blockActions:
            // An org-wide install's interaction names no team (`team: null`): the user's does.
            let team: String
            if s.orgWide {
                team = "null"
            } else if let org = s.enterpriseID {
                team = #"{"id":"\#(s.teamID)","domain":"\#(s.teamDomain)","enterprise_id":"\#(org)","enterprise_name":"\#(s.enterpriseName ?? "")"}"#
            } else {
                team = #"{"id":"\#(s.teamID)","domain":"\#(s.teamDomain)"}"#
            }
            let org = s.enterpriseID.map { #"{"id":"\#($0)","name":"\#(s.enterpriseName ?? "")"}"# } ?? "null"
            json = #"{"type":"block_actions","user":{"id":"\#(user)","username":"jo","name":"jo","team_id":"\#(s.teamID)"},"api_app_id":"\#(AuthorizationFleet.appID)","token":"XXYYZZ0123456789abcdefgh","container":{"type":"message","message_ts":"1732390000.000100","channel_id":"C0BENCH01","is_ephemeral":false},"trigger_id":"8123456789012.1765367248.e1d2c3b4a5968778695a4b3c2d1e0f9a","team":\#(team),"enterprise":\#(org),"is_enterprise_install":\#(s.orgWide),"channel":{"id":"C0BENCH01","name":"général"},"message":{"type":"message","user":"\#(s.botUserID)","ts":"1732390000.000100","bot_id":"B0BOT0001","app_id":"\#(AuthorizationFleet.appID)","text":"Approve? ✅ \/ ❌","blocks":[{"type":"actions","block_id":"approval","elements":[{"type":"button","action_id":"approve","text":{"type":"plain_text","text":"Approve ✅","emoji":true},"style":"primary","value":"approve"},{"type":"button","action_id":"deny","text":{"type":"plain_text","text":"Deny ❌","emoji":true},"style":"danger","value":"deny"}]}]},"response_url":"https:\/\/hooks.slack.com\/actions\/\#(s.teamID)\/8123456789012\/QvE4kX9qW3bYpL0mNcTzR7aH","state":{"values":{}},"actions":[{"action_id":"approve","block_id":"approval","text":{"type":"plain_text","text":"Approve ✅","emoji":true},"value":"approve","style":"primary","type":"button","action_ts":"1732390003.000400"}]}"#
            parts = .init(envelopeType: "interactive", envelopeID: envelopeID, eventType: nil, payloadType: "block_actions",
                          team: s.orgWide ? nil : s.teamID, eventID: nil, retryAttempt: 0, retryReason: "", acceptsResponsePayload: false)
        }
        return AuthorizationEvent(shape: shape, parts: parts, payload: Array(json.utf8), expected: s.expected)
    }
}
