import Testing

@testable import SockeyeJetStream

/// When a failed delivery comes back, and when it goes to the dead letters.
@Suite("RedeliveryPolicy: pauses and the limit")
struct RedeliveryPolicyTests {
    @Test("the pause after failure n is backoff[n-1], the last one repeating; at max_deliver, dead letters")
    func pausesThenDeadLetter() {
        let policy = RedeliveryPolicy(maxDeliver: 5, backoff: [.seconds(1), .seconds(10), .seconds(60)])
        #expect(policy.decide(failedAttempt: 1) == .retry(after: .seconds(1)))
        #expect(policy.decide(failedAttempt: 2) == .retry(after: .seconds(10)))
        #expect(policy.decide(failedAttempt: 3) == .retry(after: .seconds(60)))
        #expect(policy.decide(failedAttempt: 4) == .retry(after: .seconds(60)))
        #expect(policy.decide(failedAttempt: 5) == .deadLetter)
        #expect(policy.decide(failedAttempt: 50) == .deadLetter)
    }

    @Test("one delivery allowed: the first failure is the last; no backoff given: one second")
    func edges() {
        #expect(RedeliveryPolicy(maxDeliver: 1, backoff: []).decide(failedAttempt: 1) == .deadLetter)
        #expect(RedeliveryPolicy(maxDeliver: 0, backoff: []).maxDeliver == 1)
        #expect(RedeliveryPolicy(maxDeliver: 3, backoff: []).decide(failedAttempt: 1) == .retry(after: .seconds(1)))
        // A server that reports attempt 0 (it never should) is treated as the first.
        #expect(RedeliveryPolicy(maxDeliver: 3, backoff: [.seconds(2)]).decide(failedAttempt: 0) == .retry(after: .seconds(2)))
    }
}
