import SockeyeCore
import SockeyeDaemon
import SockeyeSinkKit
import Testing

/// The text operators and scripts read on the status page and in `status.json`, and the
/// questions the daemon asks of a state, for every case.
@Suite("app state")
struct AppStateTests {
    /// Every case once, with the text the status page shows for it.
    static let shown: [(AppState, String)] = [
        (.idle, "idle"),
        (.connecting, "connecting"),
        (.running(live: 2, target: 2), "running"),
        (.running(live: 1, target: 3), "running (1 of 3 connections)"),
        (.runningHTTP(eventsPath: "/slack/events"), "running (HTTP requests on /slack/events)"),
        (.stopping, "stopping"),
        (.stopped, "stopped"),
        (.failed(.linkDisabled), "failed: link_disabled (Socket Mode is off in the app's settings)"),
        (.failed(.fatalOpenError("invalid_auth")), "failed: invalid_auth"),
        (.restarting(after: .seconds(2), reason: "its client stopped"), "restarting in 2.0 seconds (its client stopped)"),
        (.disabled(reason: "Socket Mode ended: invalid_auth"), "disabled: Socket Mode ended: invalid_auth"),
    ]

    @Test("each state reads as the status page has always shown it", arguments: 0..<shown.count)
    func description(index: Int) {
        let (state, text) = Self.shown[index]
        #expect(state.description == text)
        #expect("\(state)" == text)
    }

    @Test("a pool's state maps to the matching app state, and reads as the pool state did")
    func fromPool() {
        #expect(AppState(PoolState.idle) == .idle)
        #expect(AppState(PoolState.connecting) == .connecting)
        #expect(AppState(PoolState.running(live: 1, target: 2)) == .running(live: 1, target: 2))
        #expect(AppState(PoolState.stopping) == .stopping)
        #expect(AppState(PoolState.stopped) == .stopped)
        #expect(AppState(PoolState.failed(.linkDisabled)) == .failed(.linkDisabled))
        #expect(AppState(PoolState.failed(.fatalOpenError("account_inactive"))) == .failed(.fatalOpenError("account_inactive")))
        #expect(AppState(PoolState.running(live: 4, target: 4)).description == "running")
    }

    @Test("only disabled is disabled, only restarting is restarting, only failed is failed")
    func kinds() {
        for (state, _) in Self.shown {
            let disabled = if case .disabled = state { true } else { false }
            let restarting = if case .restarting = state { true } else { false }
            let failed = if case .failed = state { true } else { false }
            #expect(state.isDisabled == disabled, "\(state)")
            #expect(state.isRestarting == restarting, "\(state)")
            #expect(state.isFailed == failed, "\(state)")
        }
    }

    /// Ready with no live connection, ready with one, healthy with none, healthy with one.
    static let expected: [AppState: (ready: (none: Bool, some: Bool), healthy: (none: Bool, some: Bool))] = [
        .idle: ((false, true), (false, true)),
        .connecting: ((false, true), (false, true)),
        .running(live: 2, target: 2): ((false, true), (false, true)),
        .running(live: 1, target: 3): ((false, true), (false, true)),
        // An HTTP-only app has no connections: running is enough.
        .runningHTTP(eventsPath: "/slack/events"): ((true, true), (true, true)),
        .stopping: ((false, true), (false, true)),
        .stopped: ((false, true), (false, true)),
        // A failed pool's last connections still deliver (ready) but will not be replaced.
        .failed(.linkDisabled): ((false, true), (false, false)),
        .failed(.fatalOpenError("invalid_auth")): ((false, true), (false, false)),
        // Disabled and restarting never take events, whatever the counters still say.
        .restarting(after: .seconds(2), reason: "its client stopped"): ((false, false), (false, false)),
        .disabled(reason: "Socket Mode ended: invalid_auth"): ((false, false), (false, false)),
    ]

    @Test("ready and healthy, with and without a live connection, for every state", arguments: 0..<shown.count)
    func readiness(index: Int) throws {
        let state = Self.shown[index].0
        let want = try #require(Self.expected[state], "\(state) has no expectation")
        #expect(state.isReady(liveConnections: 0) == want.ready.none, "\(state)")
        #expect(state.isReady(liveConnections: 1) == want.ready.some, "\(state)")
        #expect(state.isHealthy(liveConnections: 0) == want.healthy.none, "\(state)")
        #expect(state.isHealthy(liveConnections: 1) == want.healthy.some, "\(state)")
    }
}
