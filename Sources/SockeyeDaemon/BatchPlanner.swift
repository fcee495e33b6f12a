import SockeyeSinkKit

/// The decisions for one batch of an app's events, made without carrying any of them out:
/// which sink gets which events, how each envelope is answered, which event ids stay
/// claimed and what the counters gain.
///
/// It owns no socket, file, clock, logger or task. The host (`AppRunner`) turns the batch
/// into records, calls `plan(_:own:now:)`, gives each `SinkPart` to its sink (concurrently),
/// then passes the sinks' outcomes to `settle(_:outcomes:)` and carries out what that
/// returns: the claim updates, one answer per envelope, the counts. Time is passed in. The
/// one shared state it touches is the claims table it is given, in `plan` only: a claim must
/// be checked and taken in one step, since several batches are in the sinks at once.
///
/// What it guarantees:
/// - every record gets exactly one answer, at its index in the batch;
/// - each sink gets its events in batch order, each at most once, in one part; parts come in
///   the order their sinks first appear in the batch; a sink no route names gets nothing;
/// - an event reaches no sink when (in this order) its id was claimed before (apps taking
///   HTTP requests: the same team and event id, over either channel, including an earlier
///   copy in the same batch), the app is installed by OAuth and no installation covers the
///   event's workspace, the app's own bot wrote it (`own`, or the installation's bot with
///   `filtersInstallationBots`), or no route matches it; a claimed one is acked if the
///   earlier copy was taken and nacked while it is still in the sinks (Slack retries it
///   later); an unauthorized, own or unrouted one is acked;
/// - an event that went to sinks is acked only when every one of them accepted it; if any
///   refused it, it is nacked and its claim released (so Slack's redelivery is taken); if
///   all accepted, its claim is kept as taken;
/// - a sink's refusal or response naming a position outside its part is ignored (a bad
///   sink cannot make the daemon trap);
/// - a response payload is given only to an envelope that accepts one; when several sinks
///   give one for the same event, the first part's wins;
/// - with `acksOnReceipt`, a Socket Mode envelope's answer is `ackedOnReceipt` (the client
///   acked it already) whatever the sinks did; claims are still kept or released as above.
struct BatchPlanner: Sendable {
    /// Picks the sinks of each event.
    let router: Router
    /// Event ids taken across channels (apps taking HTTP requests), nil for Socket Mode alone
    /// (the client de-duplicates its own envelopes).
    let claims: EventClaims?
    /// The client acks Socket Mode envelopes on receipt (`ack: on_receipt`).
    let acksOnReceipt: Bool
    /// Drop events written by the bot of the installation each event is for (an app
    /// installed by OAuth with `ignore_own_messages`).
    var filtersInstallationBots = false

    /// The bot's identity, for dropping the app's own messages (`ignore_own_messages`).
    struct Author: Sendable, Equatable {
        var botID: String?
        var userID: String?
    }

    /// The events one sink gets: their indices in the batch, in batch order.
    struct SinkPart: Sendable, Equatable {
        let sink: String
        let indices: [Int]
    }

    /// How one envelope is answered.
    enum Answer: Sendable, Equatable {
        /// Ack it, with a sink's response payload when there is one.
        case ack(response: [UInt8]?)
        /// Nack it (Slack redelivers); `reason` is what an HTTP request's 503 says.
        case nack(reason: String)
        /// The client acked it on receipt already: nothing to send.
        case ackedOnReceipt
    }

    /// The end of a claim: kept as taken, or released.
    struct ClaimUpdate: Sendable, Equatable {
        let key: String
        let taken: Bool
    }

    /// What the counters and metrics gain from one batch.
    struct Counts: Sendable, Equatable {
        var received = 0
        /// Received events by envelope type.
        var receivedByType: [String: Int] = [:]
        var acked = 0
        var nacked = 0
        var unrouted = 0
        var ownMessages = 0
        /// Acked without the sinks: no installation covers the event's workspace.
        var unauthorized = 0
        /// Answered without the sinks because their id was claimed before.
        var duplicates = 0
        /// The sinks' error messages, one per sink that refused events with one.
        var failures: [String] = []
    }

    /// The first step's result: what goes to the sinks, and what `settle` needs.
    struct Plan: Sendable {
        /// What each sink gets.
        var parts: [SinkPart] = []
        /// Answered without the sinks: true when an earlier copy was taken, false while it
        /// is in the sinks.
        var duplicates: [Int: Bool] = [:]
        /// The claim key of each event this batch claimed.
        var claimed: [Int: String] = [:]
        /// Counts known before the sinks ran (received, unrouted, own messages, duplicates).
        var counts = Counts()
        /// Per record: delivered over Socket Mode, and accepts a response payload.
        var overSocket: [Bool] = []
        var acceptsResponse: [Bool] = []
    }

    /// The second step's result.
    struct Settlement: Sendable {
        /// One per record, in batch order.
        var answers: [Answer]
        /// To apply to the claims table.
        var claimUpdates: [ClaimUpdate]
        var counts: Counts
    }

    /// Claims, filters and routes `records` at `now` (seconds of the claims' clock); `own`
    /// is the app's bot when its own messages are dropped.
    func plan(_ records: [EventRecord], own: Author?, now: Double) -> Plan {
        var plan = Plan()
        plan.counts.received = records.count
        plan.overSocket.reserveCapacity(records.count)
        plan.acceptsResponse.reserveCapacity(records.count)
        var partIndex: [String: Int] = [:]
        var parts: [(sink: String, indices: [Int])] = []
        for (index, record) in records.enumerated() {
            plan.counts.receivedByType[record.envelopeType, default: 0] += 1
            plan.overSocket.append(record.delivery == .socketMode)
            plan.acceptsResponse.append(record.acceptsResponsePayload)
            if let claims, let key = EventClaims.key(record) {
                switch claims.claim(key, now: now) {
                case .new:
                    plan.claimed[index] = key
                case .done:
                    plan.duplicates[index] = true
                    continue
                case .pending:
                    plan.duplicates[index] = false
                    continue
                }
            }
            if record.needsAuthorization && record.authorization == nil {
                plan.counts.unauthorized += 1
                continue
            }
            if let author = filtersInstallationBots ? record.authorization.map(Author.init) : own, Self.isWritten(record, by: author) {
                plan.counts.ownMessages += 1
                continue
            }
            let chosen = router.sinks(for: record)
            if chosen.isEmpty { plan.counts.unrouted += 1 }
            for name in chosen {
                if let at = partIndex[name] {
                    parts[at].indices.append(index)
                } else {
                    partIndex[name] = parts.count
                    parts.append((name, [index]))
                }
            }
        }
        plan.parts = parts.map { SinkPart(sink: $0.sink, indices: $0.indices) }
        plan.counts.duplicates = plan.duplicates.count
        return plan
    }

    /// The answers, claim updates and counts once the sinks are done: `outcomes[i]` is what
    /// the sink of `plan.parts[i]` returned, nil when it did not run (no such sink: its
    /// events count as accepted by it). Missing trailing outcomes count as nil.
    func settle(_ plan: Plan, outcomes: [SinkOutcome?]) -> Settlement {
        let count = plan.overSocket.count
        var refused = [Bool](repeating: false, count: count)
        var responses: [Int: [UInt8]] = [:]
        var counts = plan.counts
        for (partNumber, part) in plan.parts.enumerated() {
            guard partNumber < outcomes.count, let outcome = outcomes[partNumber] else { continue }
            for position in outcome.refused where part.indices.indices.contains(position) {
                refused[part.indices[position]] = true
            }
            for (position, response) in outcome.responses where part.indices.indices.contains(position) {
                let index = part.indices[position]
                if responses[index] == nil { responses[index] = response }
            }
            if let error = outcome.error { counts.failures.append(error) }
        }
        var answers: [Answer] = []
        answers.reserveCapacity(count)
        var updates: [ClaimUpdate] = []
        for index in 0..<count {
            let earlier = plan.duplicates[index]
            let take = earlier ?? !refused[index]
            if let key = plan.claimed[index] { updates.append(ClaimUpdate(key: key, taken: take)) }
            if plan.overSocket[index] && acksOnReceipt {
                answers.append(.ackedOnReceipt)
                counts.acked += 1
            } else if take {
                answers.append(.ack(response: plan.acceptsResponse[index] ? responses[index] : nil))
                counts.acked += 1
            } else {
                let reason = earlier == false ? "the same event is in the sinks now" : counts.failures.first ?? "a sink refused it"
                answers.append(.nack(reason: reason))
                counts.nacked += 1
            }
        }
        return Settlement(answers: answers, claimUpdates: updates, counts: counts)
    }

    /// Whether the app's bot wrote `record` (events only: a slash command or interaction is
    /// a person's).
    static func isWritten(_ record: EventRecord, by bot: Author) -> Bool {
        guard record.envelopeType == "events_api" else { return false }
        if let botID = bot.botID, record.botID == botID { return true }
        if let userID = bot.userID, record.user == userID { return true }
        return false
    }
}

extension BatchPlanner.Author {
    /// The bot of the installation an event is for.
    init(_ authorization: EventAuthorization) {
        self.init(botID: authorization.botID, userID: authorization.botUserID)
    }
}
