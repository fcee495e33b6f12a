import Foundation

/// Payload kinds with fixed content for peer-app tests: a built-in or fixture kind with
/// some fields replaced (`POST /admin/inject` `{"kind":"slash_command","command":"/ship"}`).
extension PayloadLibrary {
    /// The fields an inject request may override.
    public static let overridableFields = ["command", "action_id", "callback_id", "text"]

    /// `t` with `overrides` applied where they fit its type: `command` and `text` of a
    /// slash command; `action_id` of the first action of an interaction's `actions`;
    /// `callback_id` of an interaction's `view` (or of the interaction itself, e.g. a
    /// shortcut); `text` of an event's inner `event`. Others are ignored.
    static func overriding(_ t: PayloadTemplate, _ overrides: [String: String], kind: String) -> PayloadTemplate {
        guard var o = (try? JSONSerialization.jsonObject(with: Data(t.bytes))) as? [String: Any] else { return t }
        for (key, value) in overrides {
            switch (t.type, key) {
            case (.slashCommands, "command"), (.slashCommands, "text"):
                o[key] = value
            case (.interactive, "action_id"):
                if var actions = o["actions"] as? [[String: Any]], !actions.isEmpty {
                    actions[0]["action_id"] = value
                    o["actions"] = actions
                }
            case (.interactive, "callback_id"):
                if var view = o["view"] as? [String: Any] { view["callback_id"] = value; o["view"] = view } else { o["callback_id"] = value }
            case (.eventsAPI, "text"):
                if var event = o["event"] as? [String: Any] { event["text"] = value; o["event"] = event }
            default:
                break
            }
        }
        guard let data = try? JSONSerialization.data(withJSONObject: o, options: [.withoutEscapingSlashes]) else { return t }
        return PayloadTemplate(type: t.type, acceptsResponsePayload: t.acceptsResponsePayload, kind: kind,
                               json: String(decoding: data, as: UTF8.self))
    }
}

extension SimCore {
    /// `app`'s template of `kind` with `overrides` (see `PayloadLibrary.overriding`);
    /// without overrides the kind itself. Each distinct set is registered once for every
    /// app, as a kind named `kind?field=value&…` (not listed in `kinds`). Nil for an
    /// unknown kind or app.
    public func template(kind: String, app: Int, overrides: [String: String]) -> Int? {
        guard !overrides.isEmpty else { return template(kind: kind, app: app) }
        guard apps.indices.contains(app), let variants = templateByKind[kind] else { return nil }
        let name = kind + "?" + overrides.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
        if let t = template(kind: name, app: app) { return t }
        return register(variants: variants.map { PayloadLibrary.overriding(templates[$0], overrides, kind: name) })[app]
    }

    /// Delivers `count` payloads of `kind` with `overrides` to `app` over its current
    /// delivery mode. False for an unknown kind or app.
    @discardableResult
    public func inject(kind: String, overrides: [String: String], count: Int = 1, app: Int = 0, now: Double) -> Bool {
        guard let t = template(kind: kind, app: app, overrides: overrides) else { return false }
        for _ in 0..<count { inject(template: t, app: app, now: now) }
        return true
    }
}
