/// Payload kinds per app: every kind has one template per app, each carrying that app's
/// identity (`api_app_id`, team), so a payload always names the app it is delivered to.
/// `Work.template` is the index of the receiving app's copy, resolved when the work is
/// created, so the delivery path never looks anything up.
extension SimCore {
    /// The built-in kinds, generated for each app's identity.
    func registerBuiltins() {
        let perApp = identities.map { PayloadLibrary.builtin(appID: $0.appID, team: $0.teamID) }
        for kind in perApp[0].keys.sorted() {
            register(variants: perApp.map { $0[kind]! })
        }
        for (i, a) in apps.enumerated() { a.rateLimitedTemplate = template(kind: "app_rate_limited", app: i) }
    }

    /// The identity of every app (one default identity when the config lists none).
    var identities: [PayloadIdentity] {
        apps.isEmpty ? [SimConfig.App(appID: "A0SIMAPP01", appTokens: []).identity] : apps.map(\.config.identity)
    }

    /// Adds one template per app for a kind, replacing an earlier kind of that name.
    @discardableResult
    func register(variants: [PayloadTemplate]) -> [Int] {
        let indices = variants.map { t in
            templates.append(t)
            templateIsEvent.append(t.type == .eventsAPI)
            templateLabel.append(ResponseLog.label(of: t))
            return templates.count - 1
        }
        templateByKind[variants[0].kind] = indices
        return indices
    }

    /// Adds a payload template (a fixture) as a kind: one copy per app, each with that
    /// app's identity (`PayloadTemplate.rebranded`). Returns the first app's copy.
    @discardableResult
    public func register(_ t: PayloadTemplate) -> Int {
        register(variants: identities.map { t.rebranded($0) })[0]
    }

    /// Names of all known payload kinds.
    public var kinds: [String] { templateByKind.keys.filter { !$0.contains("?") }.sorted() }

    /// `app`'s template of `kind`; nil for an unknown kind or app.
    public func template(kind: String, app: Int) -> Int? {
        guard apps.indices.contains(app), let v = templateByKind[kind] else { return nil }
        return v[app]
    }

    /// `app`'s `message` padded to about `size` bytes (kind `message_<size>`, registered
    /// for every app on first use).
    func sizedMessage(size: Int, app: Int) -> Int {
        if let t = template(kind: "message_\(size)", app: app) { return t }
        return register(variants: identities.map { PayloadLibrary.sizedMessage(appID: $0.appID, size: size, team: $0.teamID) })[app]
    }
}
