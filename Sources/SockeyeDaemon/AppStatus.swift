import Foundation
import SockeyeSinkKit
import Synchronization

/// What an operator wants to know about one app beyond counts: its state, its last refresh
/// and the last errors. Kept by the app's notice and state watchers; read by the status page.
public final class AppStatus: Sendable {
    /// A consistent copy.
    public struct Snapshot: Sendable, Equatable {
        /// Where the app stands (its `description` is the text the status page shows).
        public var state = AppState.idle
        /// When the last connection refresh began and why (`warning`, `refresh_requested` …).
        public var lastRefresh: (at: Date, reason: String)?
        /// The Slack backend that answered the last `hello`, and the connection time it gave.
        public var lastHello: (at: Date, connectionTime: Int64?)?
        /// The latest errors, newest last (at most `errorLimit`).
        public var recentErrors: [(at: Date, message: String)] = []
        /// Events received per second over the last second or so.
        public var eventsPerSecond: Double = 0

        public static func == (a: Snapshot, b: Snapshot) -> Bool {
            a.state == b.state && a.lastRefresh?.at == b.lastRefresh?.at && a.lastRefresh?.reason == b.lastRefresh?.reason
                && a.lastHello?.at == b.lastHello?.at && a.recentErrors.map(\.message) == b.recentErrors.map(\.message)
        }
    }

    static let errorLimit = 5
    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func setState(_ next: AppState) { state.withLock { $0.state = next } }

    func setRate(_ perSecond: Double) { state.withLock { $0.eventsPerSecond = perSecond } }

    func refreshed(_ reason: String) { state.withLock { $0.lastRefresh = (Date(), reason) } }

    func hello(connectionTime: Int64?) { state.withLock { $0.lastHello = (Date(), connectionTime) } }

    func error(_ message: String) {
        state.withLock {
            $0.recentErrors.append((Date(), message))
            if $0.recentErrors.count > Self.errorLimit { $0.recentErrors.removeFirst() }
        }
    }
}
