import SockeyeSinkKit
import Synchronization

/// Event ids an app has taken, across its delivery channels, so that an event Slack sends
/// twice (over Socket Mode and over HTTP while the app moves between them, or an HTTP retry
/// after a slow answer) reaches the sinks once. An id is claimed when its event arrives,
/// kept for `window` once the sinks took it, and released if they refused it (so Slack's
/// redelivery is taken). Only for apps that take HTTP requests; Socket Mode alone has the
/// client's own de-duplication.
final class EventClaims: Sendable {
    /// What a claim found.
    enum Outcome { case new, pending, done }

    private struct State {
        var entries: [String: (done: Bool, at: Double)] = [:]
        var insertsSincePrune = 0
    }
    private let state = Mutex(State())
    let window: Double
    /// At most this many ids are kept: past it, the oldest taken ones go first (the window
    /// shrinks for a while), so a sustained flood cannot grow the table without bound.
    let maxEntries: Int

    init(windowSeconds: Double = 900, maxEntries: Int = 500_000) {
        window = windowSeconds
        self.maxEntries = maxEntries
    }

    /// Now on the claims' clock, in seconds: the time since the first reading in this process,
    /// from `ContinuousClock`. Only intervals between readings matter (the window), and the
    /// table, being sans-IO, takes plain seconds that tests can choose.
    static func now() -> Double { (ContinuousClock.now - origin) / .seconds(1) }
    private static let origin = ContinuousClock.now

    /// Ids kept now (taken or in the sinks).
    var count: Int { state.withLock { $0.entries.count } }

    /// Claims `key` at `now` (seconds).
    func claim(_ key: String, now: Double) -> Outcome {
        state.withLock { state in
            if let entry = state.entries[key], entry.done ? now - entry.at < window : true {
                return entry.done ? .done : .pending
            }
            state.entries[key] = (false, now)
            state.insertsSincePrune += 1
            // Pruning walks the whole table: it runs once the table has grown by half since
            // the last time (or past the limit), so its cost per claim stays constant.
            if state.entries.count > maxEntries || state.insertsSincePrune >= max(4096, state.entries.count / 2) {
                state.insertsSincePrune = 0
                var kept = window
                state.entries = state.entries.filter { !$0.value.done || now - $0.value.at < kept }
                // Too many: keep a shorter past (halving it) until the table is at most three
                // quarters of the limit.
                while state.entries.count > maxEntries * 3 / 4 && kept > 0.001 {
                    kept /= 2
                    state.entries = state.entries.filter { !$0.value.done || now - $0.value.at < kept }
                }
            }
            return .new
        }
    }

    /// Ends the claim on `key`: kept when the sinks took the event, released when not.
    func finish(_ key: String, taken: Bool, now: Double) {
        state.withLock { state in
            if taken { state.entries[key] = (true, now) } else { state.entries.removeValue(forKey: key) }
        }
    }

    /// The claim key of `record` (events with an id only).
    static func key(_ record: EventRecord) -> String? {
        guard record.envelopeType == "events_api", let id = record.eventID else { return nil }
        return "\(record.team ?? "")/\(id)"
    }
}
