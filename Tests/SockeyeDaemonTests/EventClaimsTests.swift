import Testing

@testable import SockeyeDaemon

/// The table of event ids taken across delivery channels.
@Suite("event claims")
struct EventClaimsTests {
    @Test("a taken id is a duplicate within the window, one in the sinks is pending, a refused one can come again")
    func outcomes() {
        let claims = EventClaims(windowSeconds: 60)
        #expect(claims.claim("T/Ev1", now: 0) == .new)
        #expect(claims.claim("T/Ev1", now: 1) == .pending)
        claims.finish("T/Ev1", taken: true, now: 2)
        #expect(claims.claim("T/Ev1", now: 3) == .done)
        #expect(claims.claim("T/Ev2", now: 3) == .new)
        claims.finish("T/Ev2", taken: false, now: 4)
        #expect(claims.claim("T/Ev2", now: 5) == .new)
    }

    @Test("a flood of distinct ids keeps the table within its limit, newest kept")
    func bounded() {
        let claims = EventClaims(windowSeconds: 900, maxEntries: 1000)
        for index in 0..<20_000 {
            let key = "T/Ev\(index)"
            let now = Double(index) / 1000
            #expect(claims.claim(key, now: now) == .new)
            claims.finish(key, taken: true, now: now)
        }
        #expect(claims.count <= 1000, "\(claims.count) ids kept")
        // The most recent ids are still known as taken.
        #expect(claims.claim("T/Ev19999", now: 20) == .done)
    }

    @Test("the claims' clock counts seconds forward from ContinuousClock")
    func clock() async throws {
        let first = EventClaims.now()
        try await Task.sleep(for: .milliseconds(200))
        let second = EventClaims.now()
        // A sleep lasts at least its duration; how much longer depends on the machine.
        #expect(second - first >= 0.2, "\(first) then \(second)")
        #expect(second - first < 3600, "not seconds: \(first) then \(second)")
    }
}
