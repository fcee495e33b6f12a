import Foundation

/// The three Socket Mode envelope types.
public enum EnvelopeType: String, Codable, Sendable, CaseIterable {
    case eventsAPI = "events_api"
    case slashCommands = "slash_commands"
    case interactive
}

/// A payload ready to be wrapped in envelopes: its JSON bytes plus where the 16-digit
/// event-id counter sits, so each delivery gets a unique `event_id` by patching bytes.
public struct PayloadTemplate: Sendable {
    public var type: EnvelopeType
    /// `accepts_response_payload` as Slack sets it (docs/protocol.md, Envelopes).
    public var acceptsResponsePayload: Bool
    /// A short label for reports (`message`, `block_actions`, …).
    public var kind: String
    public var bytes: [UInt8]
    /// Offset of the 16 digits after `"event_id":"Ev`, for events.
    public var eventIDDigits: Int?
    /// Envelope bytes after the payload for non-event types.
    let tail: [UInt8]

    public init(type: EnvelopeType, acceptsResponsePayload: Bool, kind: String, json: String) {
        self.type = type
        self.acceptsResponsePayload = acceptsResponsePayload
        self.kind = kind
        self.bytes = Array(json.utf8)
        tail = Array(#","type":"\#(type.rawValue)","accepts_response_payload":\#(acceptsResponsePayload)}"#.utf8)
        let marker = Array(#""event_id":"Ev"#.utf8)
        eventIDDigits = nil
        if bytes.count >= marker.count {
            for i in 0...(bytes.count - marker.count) where bytes[i] == marker[0] && Array(bytes[i..<(i + marker.count)]) == marker {
                let start = i + marker.count
                if start + 16 <= bytes.count, bytes[start..<(start + 16)].allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                    eventIDDigits = start
                }
                break
            }
        }
    }

    /// The payload bytes with event number `n` patched in.
    public func render(eventNumber n: UInt64) -> [UInt8] {
        var out = bytes
        if let at = eventIDDigits {
            var v = n
            for i in stride(from: 15, through: 0, by: -1) {
                out[at + i] = UInt8(48 + v % 10)
                v /= 10
            }
        }
        return out
    }

    /// `Ev` + the 16 digits of `n`, as written by `render`.
    public static func eventID(_ n: UInt64) -> String {
        let digits = String(n)
        return "Ev" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}

/// Built-in realistic payloads and a loader for fixture folders.
public enum PayloadLibrary {
    static let eventPlaceholder = "Ev0000000000000000"

    /// Every built-in kind, by name.
    public static func builtin(appID: String, team: String = "T0SIM0001", bot: String = "U0SIMBOT1") -> [String: PayloadTemplate] {
        var out: [String: PayloadTemplate] = [:]
        func event(_ kind: String, _ inner: String) {
            let json = #"{"token":"sim-verification-token","team_id":"\#(team)","api_app_id":"\#(appID)","event":\#(inner),"type":"event_callback","event_id":"\#(eventPlaceholder)","event_time":1732390000,"event_context":"4-eyJldCI6Im1lc3NhZ2UifQ","is_ext_shared_channel":false,"authorizations":[{"enterprise_id":null,"team_id":"\#(team)","user_id":"\#(bot)","is_bot":true,"is_enterprise_install":false}]}"#
            out[kind] = PayloadTemplate(type: .eventsAPI, acceptsResponsePayload: false, kind: kind, json: json)
        }
        event("message", #"{"type":"message","user":"U0SIMUSR1","text":"Grüße aus Zürich 🐟🚀 — naïve café, 日本語のテキスト, emoji :tada: 🎉👩🏽‍💻","ts":"1732390000.000100","channel":"C0SIMCHAN","event_ts":"1732390000.000100","channel_type":"channel","blocks":[{"type":"rich_text","block_id":"b1","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Grüße aus Zürich "},{"type":"emoji","name":"fish","unicode":"1f41f"}]}]}]}"#)
        event("app_mention", #"{"type":"app_mention","user":"U0SIMUSR1","text":"<@\#(bot)> deploy ✅ please","ts":"1732390001.000200","channel":"C0SIMCHAN","event_ts":"1732390001.000200","client_msg_id":"6c2a3f0e-5b8e-4f0a-9c51-3f1c7d9e2b10"}"#)
        event("reaction_added", #"{"type":"reaction_added","user":"U0SIMUSR2","reaction":"thumbsup","item_user":"U0SIMUSR1","item":{"type":"message","channel":"C0SIMCHAN","ts":"1732390000.000100"},"event_ts":"1732390002.000300"}"#)
        out["app_rate_limited"] = appRateLimited(appID: appID, team: team)
        out["slash_command"] = PayloadTemplate(type: .slashCommands, acceptsResponsePayload: true, kind: "slash_command", json: #"{"token":"sim-verification-token","team_id":"\#(team)","team_domain":"sockeye-sim","channel_id":"C0SIMCHAN","channel_name":"général","user_id":"U0SIMUSR1","user_name":"jo","command":"/deploy","text":"api prod 🚀","api_app_id":"\#(appID)","is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/\#(team)/1/simresponse","trigger_id":"1111.2222.simtrigger"}"#)
        out["block_actions"] = PayloadTemplate(type: .interactive, acceptsResponsePayload: false, kind: "block_actions", json: #"{"type":"block_actions","user":{"id":"U0SIMUSR1","username":"jo","name":"jo","team_id":"\#(team)"},"api_app_id":"\#(appID)","token":"sim-verification-token","container":{"type":"message","message_ts":"1732390000.000100","channel_id":"C0SIMCHAN","is_ephemeral":false},"trigger_id":"1111.2222.simtrigger","team":{"id":"\#(team)","domain":"sockeye-sim"},"enterprise":null,"is_enterprise_install":false,"channel":{"id":"C0SIMCHAN","name":"général"},"message":{"type":"message","user":"\#(bot)","ts":"1732390000.000100","text":"Approve? ✅ / ❌","blocks":[]},"response_url":"https://hooks.slack.com/actions/\#(team)/1/simresponse","state":{"values":{}},"actions":[{"action_id":"approve","block_id":"approval","text":{"type":"plain_text","text":"Approve ✅","emoji":true},"value":"approve","style":"primary","type":"button","action_ts":"1732390003.000400"}]}"#)
        out["shortcut"] = PayloadTemplate(type: .interactive, acceptsResponsePayload: false, kind: "shortcut", json: #"{"type":"shortcut","token":"sim-verification-token","action_ts":"1732390004.000500","team":{"id":"\#(team)","domain":"sockeye-sim"},"user":{"id":"U0SIMUSR1","username":"jo","team_id":"\#(team)"},"is_enterprise_install":false,"enterprise":null,"callback_id":"do-something","trigger_id":"1111.2222.simtrigger"}"#)
        out["view_submission"] = PayloadTemplate(type: .interactive, acceptsResponsePayload: true, kind: "view_submission", json: viewSubmission(appID: appID, team: team, inputs: 520))
        return out
    }

    /// The `app_rate_limited` event of `appID` (no inner `event`).
    static func appRateLimited(appID: String, team: String = "T0SIM0001") -> PayloadTemplate {
        PayloadTemplate(type: .eventsAPI, acceptsResponsePayload: false, kind: "app_rate_limited", json: #"{"token":"sim-verification-token","type":"app_rate_limited","team_id":"\#(team)","minute_rate_limited":1732390020,"api_app_id":"\#(appID)"}"#)
    }

    /// A `view_submission` whose `state.values` holds `inputs` text inputs (≈ 150 B each).
    static func viewSubmission(appID: String, team: String, inputs: Int) -> String {
        var values: [String] = []
        for i in 0..<inputs {
            values.append(#""block-\#(i)":{"input-\#(i)":{"type":"plain_text_input","value":"réponse numéro \#(i) — ünïcödé ✍️ line of text"}}"#)
        }
        return #"{"type":"view_submission","team":{"id":"\#(team)","domain":"sockeye-sim"},"user":{"id":"U0SIMUSR1","username":"jo","team_id":"\#(team)"},"api_app_id":"\#(appID)","token":"sim-verification-token","trigger_id":"1111.2222.simtrigger","view":{"id":"V0SIMVIEW","team_id":"\#(team)","type":"modal","blocks":[],"private_metadata":"","callback_id":"modal-with-inputs","state":{"values":{\#(values.joined(separator: ","))}},"hash":"1732390005.cd33ad1f","title":{"type":"plain_text","text":"Big form 📋"},"root_view_id":"V0SIMVIEW","app_id":"\#(appID)","bot_id":"B0SIMBOT1"},"response_urls":[],"is_enterprise_install":false,"enterprise":null}"#
    }

    /// A `message` event padded to roughly `size` bytes of payload JSON.
    public static func sizedMessage(appID: String, size: Int, team: String = "T0SIM0001") -> PayloadTemplate {
        let base = builtin(appID: appID, team: team)["message"]!
        let pad = max(0, size - base.bytes.count - 20)
        let filler = String(repeating: "sockeye 🐟 ", count: pad / 12 + 1).prefix(pad / 2)
        let json = String(decoding: base.bytes, as: UTF8.self)
            .replacingOccurrences(of: #""channel_type":"channel""#, with: #""channel_type":"channel","sim_padding":"\#(filler)""#)
        return PayloadTemplate(type: .eventsAPI, acceptsResponsePayload: false, kind: "message_\(size)", json: json)
    }

    /// Loads `*.json` fixtures: each file is `{"type": <envelope type>, "payload": {...}}`,
    /// optionally with `accepts_response_payload`; its kind is the file name without
    /// `.json`. An events payload whose `event_id` is `Ev` + 16 digits gets a fresh number
    /// per delivery. Files are returned sorted by name.
    public static func loadFixtures(folder: String) throws -> [PayloadTemplate] {
        let fm = FileManager.default
        let names = try fm.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: folder).appendingPathComponent(name))
            guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let typeName = obj["type"] as? String, let type = EnvelopeType(rawValue: typeName),
                  let payload = obj["payload"] as? [String: Any]
            else { throw SimError.badFixture(name) }
            let accepts = (obj["accepts_response_payload"] as? Bool) ?? defaultAccepts(type: type, payload: payload)
            let bytes = try JSONSerialization.data(withJSONObject: payload, options: [.withoutEscapingSlashes])
            return PayloadTemplate(type: type, acceptsResponsePayload: accepts, kind: String(name.dropLast(5)),
                                   json: String(decoding: bytes, as: UTF8.self))
        }
    }

    /// Slash commands, view_submission and block_suggestion accept a response payload (docs/protocol.md, Envelopes).
    public static func defaultAccepts(type: EnvelopeType, payload: [String: Any]) -> Bool {
        switch type {
        case .eventsAPI: return false
        case .slashCommands: return true
        case .interactive:
            let t = payload["type"] as? String
            return t == "view_submission" || t == "block_suggestion"
        }
    }
}

/// Errors the simulator reports to its host.
public enum SimError: Error, CustomStringConvertible {
    case badFixture(String)
    case listenFailed(String)
    case badScenario(String)
    case badRequestURL(String)

    public var description: String {
        switch self {
        case .badFixture(let f): return "fixture \(f) is not {\"type\":…, \"payload\":{…}}"
        case .listenFailed(let m): return "could not listen: \(m)"
        case .badScenario(let m): return "bad scenario: \(m)"
        case .badRequestURL(let m): return "bad Request URL: \(m)"
        }
    }
}
