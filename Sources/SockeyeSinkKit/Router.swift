/// Picks the sinks for an event: the union of the sinks of every route whose match holds,
/// in the order the routes name them.
public struct Router: Sendable {
    let routes: [Route]

    public init(routes: [Route]) { self.routes = routes }

    /// The names of the sinks `record` goes to (empty: no route matched).
    public func sinks(for record: EventRecord) -> [String] {
        var chosen: [String] = []
        for route in routes where Self.matches(route.match, record) {
            for sink in route.sinks where !chosen.contains(sink) { chosen.append(sink) }
        }
        return chosen
    }

    static func matches(_ match: RouteMatch, _ record: EventRecord) -> Bool {
        func allows(_ accepted: Set<String>?, _ value: String?) -> Bool {
            guard let accepted else { return true }
            guard let value else { return false }
            return accepted.contains(value)
        }
        return allows(match.envelopeTypes, record.envelopeType) && allows(match.eventTypes, record.eventType)
            && allows(match.teams, record.team) && allows(match.channels, record.channel)
    }
}
