import Testing

@testable import SockeyeJetStream

/// A batch's way into the stream without sockets: answers and the clock in, actions out.
@Suite("PublishRound: PubAcks, resends, the deadline")
struct PublishRoundTests {
    private let start = ContinuousClock.now
    private let unavailable = JetStreamError(.unavailable, "no responders")

    @Test("all stored: finish, nothing refused, duplicates counted")
    func allStored() {
        var round = PublishRound(count: 3, deadline: start + .seconds(2))
        #expect(round.next(now: start) == .awaitAcks(until: start + .seconds(2)))
        round.record(0, .stored(sequence: 1, duplicate: false))
        round.record(1, .stored(sequence: 2, duplicate: true))
        #expect(round.inFlight == 1)
        round.record(2, .stored(sequence: 3, duplicate: false))
        #expect(round.next(now: start) == .finish)
        #expect(round.refused.isEmpty)
        #expect(round.stored.count == 3 && round.stored.duplicates == 1)
    }

    @Test("a passing failure is resent after 50 ms, then 100, 200, 400, 400 ms")
    func backoffDoubles() {
        var round = PublishRound(count: 2, deadline: start + .seconds(10))
        round.record(0, .stored(sequence: 1, duplicate: false))
        var now = start
        for pause in [50, 100, 200, 400, 400] {
            round.record(1, .failed(unavailable))
            #expect(round.next(now: now) == .resend([1], at: now + .milliseconds(pause)))
            now += .milliseconds(pause)
            #expect(round.next(now: now) == .awaitAcks(until: start + .seconds(10)))
        }
        round.record(1, .stored(sequence: 2, duplicate: false))
        #expect(round.next(now: now) == .finish)
        #expect(round.refused.isEmpty)
    }

    @Test("no resend that cannot finish before the deadline: refused with the failure's words")
    func deadlineStopsResends() {
        var round = PublishRound(count: 1, deadline: start + .milliseconds(60))
        round.record(0, .failed(unavailable))
        #expect(round.next(now: start) == .finish)
        #expect(round.refused == [0])
        #expect(round.firstError == unavailable)
    }

    @Test("a refusal is final at once; a late answer changes nothing")
    func refusalIsFinal() {
        var round = PublishRound(count: 2, deadline: start + .seconds(2))
        let tooLarge = JetStreamError(.refused, "message size exceeds maximum allowed")
        round.record(0, .failed(tooLarge))
        round.record(1, .stored(sequence: 9, duplicate: false))
        #expect(round.next(now: start) == .finish)
        #expect(round.refused == [0])
        round.record(0, .stored(sequence: 10, duplicate: false))
        #expect(round.refused == [0])
    }

    @Test("at the deadline, messages in flight or waiting fail")
    func expiry() {
        var round = PublishRound(count: 3, deadline: start + .seconds(2))
        round.record(0, .stored(sequence: 1, duplicate: false))
        round.record(1, .failed(unavailable))
        round.expire(after: 2)
        #expect(round.refused == [1, 2])
        #expect(round.next(now: start + .seconds(2)) == .finish)
        round.record(2, .stored(sequence: 3, duplicate: false))
        #expect(round.refused == [1, 2])
        #expect(round.stored.count == 1)
    }
}
