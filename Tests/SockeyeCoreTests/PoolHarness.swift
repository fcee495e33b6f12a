import SockeyeCore

/// Drives a `PoolController` with a fake clock and records its actions.
struct PoolHarness {
    var pool: PoolController
    var now = Instant(nanoseconds: 1_000_000_000_000)
    var urlCounter = 0
    /// Whether the pool has asked for a URL that was not answered yet.
    var urlRequested = false

    init(_ configure: (inout PoolConfiguration) -> Void = { _ in }, seed: UInt64 = 42) {
        var configuration = PoolConfiguration()
        configure(&configuration)
        pool = PoolController(configuration: configuration, random: SplitMix64(seed: seed), now: now)
    }

    mutating func drain() -> [PoolAction] {
        var out: [PoolAction] = []
        while let action = pool.nextAction() {
            if action == .requestURL { urlRequested = true }
            out.append(action)
        }
        return out
    }

    mutating func handle(_ event: PoolEvent) -> [PoolAction] {
        pool.handle(event, now: now)
        return drain()
    }

    /// Moves the clock and fires the timer.
    mutating func advance(_ duration: Duration) -> [PoolAction] {
        now = now + duration
        return handle(.timer)
    }

    /// Moves the clock to each deadline in turn until `duration` passed; returns all actions.
    mutating func run(for duration: Duration) -> [PoolAction] {
        let end = now + duration
        var out: [PoolAction] = []
        var steps = 0
        while steps < 100_000, let next = pool.nextDeadline(now: now), next <= end {
            now = max(now, next)
            out += handle(.timer)
            steps += 1
        }
        now = end
        out += handle(.timer)
        return out
    }

    mutating func frame(_ text: String, on id: ConnectionID) -> [PoolAction] {
        var bytes = Array(text.utf8)
        let current = now
        bytes.withUnsafeMutableBytes { _ = pool.receive(frame: UnsafeRawBufferPointer($0), on: id, now: current) }
        return drain()
    }

    mutating func pong(_ text: String, on id: ConnectionID) {
        let current = now
        Array(text.utf8).withUnsafeBytes { pool.receivePong($0, on: id, now: current) }
    }

    /// Answers a `.requestURL` with a fresh URL and returns the actions that follow.
    mutating func answerURL() -> [PoolAction] {
        urlCounter += 1
        urlRequested = false
        return handle(.urlResponse(.url("wss://sim.invalid/link/?ticket=\(urlCounter)")))
    }

    /// Sends `count` distinct events (event ids `<prefix>-<n>`) on `id`; returns the actions.
    mutating func events(_ count: Int, prefix: String, on id: ConnectionID) -> [PoolAction] {
        var out: [PoolAction] = []
        for n in 0..<count { out += frame(Frames.event(id: "\(prefix)-env-\(n)", eventID: "\(prefix)-\(n)"), on: id) }
        return out
    }

    /// Live connections, oldest first.
    var liveIDs: [ConnectionID] { pool.connectionSummary.filter { $0.phase == .live && !$0.retiring }.map(\.id) }

    /// Plays Slack and the transport for the actions given: answers URL requests, opens
    /// connections and says hello, echoes pongs, confirms closes and aborts. Returns the
    /// actions given and all that followed.
    mutating func react(_ actions: [PoolAction]) -> [PoolAction] {
        var all = actions
        var queue = actions
        while !queue.isEmpty {
            var next: [PoolAction] = []
            for action in queue {
                switch action {
                case .requestURL: next += answerURL()
                case .connect(let id, _):
                    next += handle(.opened(id))
                    if refuseConnections > 0 {
                        refuseConnections -= 1
                        next += frame(Frames.disconnect("too_many_websockets"), on: id)
                    } else {
                        next += frame(Frames.hello(), on: id)
                    }
                case .close(let id, _): next += handle(.closed(id, code: 1000))
                case .abort(let id): next += handle(.closed(id, code: nil))
                case .sendPing(let id, let payload): pong(payload.text, on: id)
                default: break
                }
            }
            all += next
            queue = next
        }
        return all
    }

    /// Runs a served pool (see `react`) for `duration` in steps of `step`, calling `load`
    /// at the start of every step; records each resize with its time in `resizes`.
    mutating func serve(
        for duration: Duration, step: Duration = .seconds(1),
        load: (inout PoolHarness) -> [PoolAction] = { _ in [] }
    ) -> [PoolAction] {
        let end = now + duration
        var out: [PoolAction] = []
        var timers = 0  // a deadline that never moves must fail the test, not hang it
        while now < end {
            let stepEnd = min(end, now + step)
            out += record(react(load(&self)))
            while timers < 100_000, let next = pool.nextDeadline(now: now), next <= stepEnd {
                timers += 1
                now = max(now, next)
                out += record(react(handle(.timer)))
            }
            now = stepEnd
            out += record(react(handle(.timer)))
        }
        return out
    }

    /// How many of the next connections `react` refuses with `too_many_websockets`.
    var refuseConnections = 0

    /// Resizes seen by `serve`: when, from, to, reason.
    var resizes: [(at: Instant, from: Int, to: Int, reason: String)] = []

    private mutating func record(_ actions: [PoolAction]) -> [PoolAction] {
        for case .poolResized(let from, let to, let reason) in actions.notices {
            resizes.append((now, from, to, reason))
        }
        return actions
    }

    /// Starts the pool and brings `count` connections to live; returns their ids.
    mutating func startLive(_ count: Int) -> [ConnectionID] {
        var ids: [ConnectionID] = []
        _ = handle(.start)
        var rounds = 0
        while ids.count < count, rounds < 50 {
            rounds += 1
            guard urlRequested else {
                _ = run(for: .seconds(5))
                continue
            }
            guard let id = answerURL().connectedIDs.first else { continue }
            _ = handle(.opened(id))
            _ = frame(Frames.hello(), on: id)
            ids.append(id)
        }
        return ids
    }
}

extension Array where Element == PoolAction {
    var connectedIDs: [ConnectionID] {
        compactMap { if case .connect(let id, _) = $0 { return id } else { return nil } }
    }
    var connectURLs: [String] {
        compactMap { if case .connect(_, let url) = $0 { return url } else { return nil } }
    }
    var closed: [ConnectionID] {
        compactMap { if case .close(let id, _) = $0 { return id } else { return nil } }
    }
    var aborted: [ConnectionID] {
        compactMap { if case .abort(let id) = $0 { return id } else { return nil } }
    }
    var acks: [(ConnectionID, String, [UInt8]?)] {
        compactMap {
            if case .sendAck(let id, let message) = $0 { return (id, message.envelopeID.description, message.payload) }
            return nil
        }
    }
    var deliveries: [Delivery] {
        compactMap { if case .deliver(let delivery) = $0 { return delivery } else { return nil } }
    }
    var pings: [PingPayload] {
        compactMap { if case .sendPing(_, let payload) = $0 { return payload } else { return nil } }
    }
    var urlRequests: Int { filter { $0 == .requestURL }.count }
    var notices: [PoolNotice] {
        compactMap { if case .notice(let notice) = $0 { return notice } else { return nil } }
    }
}

/// Real-shaped frames (docs/protocol.md, Envelopes).
enum Frames {
    static func hello(connections: Int = 1, lifetime: Int = 18060) -> String {
        #"{"type":"hello","num_connections":\#(connections),"debug_info":{"host":"applink-7fc4fdbb64-4x5xq","build_number":54,"approximate_connection_time":\#(lifetime)},"connection_info":{"app_id":"A0123ABCD"}}"#
    }

    static func disconnect(_ reason: String) -> String {
        #"{"type":"disconnect","reason":"\#(reason)","debug_info":{"host":"wss-111.slack.com"}}"#
    }

    static func event(id: String, eventID: String = "Ev111", team: String = "T111", retry: Int = 0) -> String {
        #"{"envelope_id":"\#(id)","type":"events_api","accepts_response_payload":false,"retry_attempt":\#(retry),"retry_reason":"\#(retry == 0 ? "" : "timeout")","payload":{"token":"x","team_id":"\#(team)","api_app_id":"A111","type":"event_callback","event_id":"\#(eventID)","event_time":1610241741,"event":{"type":"app_mention","user":"U222","text":"<@U0BOT> hi","ts":"1610241741.000200","channel":"C111","event_ts":"1610241741.000200"}}}"#
    }

    static func slash(id: String) -> String {
        #"{"envelope_id":"\#(id)","type":"slash_commands","accepts_response_payload":true,"payload":{"team_id":"T111","command":"/deploy","text":"api prod"}}"#
    }
}
