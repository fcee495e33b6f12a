/// The events disabling rule per app (docs/protocol.md, The events-disabling rule): each app's deliveries are
/// counted on their own, and disabling one app sends `app_rate_limited` to that app's
/// connections only and drops only that app's events.
extension SimCore {
    /// True while any app has events disabled.
    public var eventsDisabled: Bool { apps.contains { $0.eventsDisabled } }

    /// Events dropped while disabled, all apps together.
    public var droppedWhileDisabled: Int { apps.reduce(0) { $0 + $1.droppedWhileDisabled } }

    /// True while `app` has events disabled (false for an unknown index).
    public func eventsDisabled(app: Int) -> Bool { apps.indices.contains(app) && apps[app].eventsDisabled }

    /// Events of `app` dropped while disabled (0 for an unknown index).
    public func droppedWhileDisabled(app: Int) -> Int { apps.indices.contains(app) ? apps[app].droppedWhileDisabled : 0 }

    /// Turns event delivery of `app` (every app when nil) off, sending `app_rate_limited`
    /// to that app, or back on. Returns false for an unknown app index.
    @discardableResult
    public func setEventsDisabled(_ disabled: Bool, app: Int? = nil, now: Double) -> Bool {
        guard let app else {
            for i in apps.indices { setEventsDisabled(disabled, app: i, now: now) }
            return true
        }
        guard apps.indices.contains(app) else { return false }
        let a = apps[app]
        guard disabled != a.eventsDisabled else { return true }
        a.eventsDisabled = disabled
        if disabled, let t = a.rateLimitedTemplate {
            var w = Work(template: t, eventNumber: nextEvent, attempt: 0, intendedAt: now)
            w.app = app
            nextEvent += 1
            deliver(w, now: now)
        }
        return true
    }

    /// Disables every app whose own deliveries violate the rule. Windows keep rotating
    /// while disabled, so the report shows current figures.
    func checkDisableRules(now: Double) {
        for (i, a) in apps.enumerated() where a.disableRule.violated(now: now) && !a.eventsDisabled {
            setEventsDisabled(true, app: i, now: now)
        }
    }

    /// The rule's state and the connection figures per app, for the report.
    func appReports(now: Double) -> [AppReport] {
        apps.map { a in
            let (delivered, acked) = a.disableRule.totals
            var report = AppReport(app: a.config.appID, eventsDisabled: a.eventsDisabled, droppedWhileDisabled: a.droppedWhileDisabled,
                                   windowDelivered: delivered, windowAcked: acked)
            report.connectionsOpenURLs = a.openURLs
            report.connectionsOpenRateLimited = a.openErrors
            report.peakConnections = a.peakConnections
            report.connections = a.connections.count
            report.tooManyRejections = a.tooManyRejections
            report.longestWithoutConnectionSeconds = max(a.longestWithoutConnection, a.withoutConnectionSince.map { now - $0 } ?? 0)
            return report
        }
    }
}
