import Foundation
import SockeyeSim
@testable import SockeyeTransport
import Testing

/// A timer for the queue's tests: what `ServiceTimer` keeps, nothing else.
private final class TestTimer: QueuedTimer {
    let name: String
    var queuedDue: UInt64?
    var generation: UInt64 = 0
    init(_ name: String) { self.name = name }
}

@Suite("the service thread's timer queue")
struct TimerQueueTests {
    @Test("due timers come out earliest first; a rescheduled timer comes out once, at its new time; a cancelled one never")
    func order() {
        var queue = TimerQueue<TestTimer>()
        let a = TestTimer("a"), b = TestTimer("b"), c = TestTimer("c"), d = TestTimer("d")
        queue.schedule(c, at: 300)
        queue.schedule(a, at: 100)
        queue.schedule(b, at: 200)
        queue.schedule(d, at: 50)
        #expect(queue.earliest() == 50)
        queue.cancel(d)
        #expect(queue.earliest() == 100)
        queue.schedule(a, at: 250)  // later than b now
        #expect(queue.liveCount == 3)
        #expect(queue.takeDue(now: 99).isEmpty)
        #expect(queue.takeDue(now: 260).map(\.name) == ["b", "a"])
        #expect(queue.earliest() == 300)
        #expect(queue.takeDue(now: 1_000).map(\.name) == ["c"])
        #expect(queue.earliest() == nil && queue.liveCount == 0)
        #expect(a.queuedDue == nil && d.queuedDue == nil)
        // Cancelling what is not scheduled changes nothing.
        queue.cancel(a)
        #expect(queue.liveCount == 0)
    }

    @Test("timers at the same time all come out; a timer cancelled then rescheduled comes out once")
    func ties() {
        var queue = TimerQueue<TestTimer>()
        let kept = (0..<5).map { TestTimer("t\($0)") }
        for timer in kept { queue.schedule(timer, at: 10) }
        queue.cancel(kept[2])
        queue.schedule(kept[2], at: 10)
        #expect(queue.liveCount == 5)
        #expect(queue.earliest() == 10)
        let due = queue.takeDue(now: 10).map(\.name)
        #expect(due.count == 5 && Set(due) == Set(kept.map(\.name)))
    }

    @Test("a timer rescheduled at every event leaves the heap within a small multiple of the live timers")
    func compaction() {
        var queue = TimerQueue<TestTimer>()
        let timers = (0..<10).map { TestTimer("t\($0)") }
        var now: UInt64 = 0
        for round in 0..<100_000 {
            now += 1
            queue.schedule(timers[round % timers.count], at: now + 2_000)
        }
        #expect(queue.liveCount == 10)
        #expect(queue.storedCount <= 4 * 10 + 64 + 1, "\(queue.storedCount) entries for 10 timers")
        #expect(queue.takeDue(now: now + 2_000).count == 10)
    }
}

@Suite("the service thread's event loop", .serialized)
struct EventLoopTests {
    @Test("it waits on epoll where lws' libev plugin is installed (scripts/setup installs it), on poll when asked")
    func loops() throws {
        let epoll = try TransportRuntime()
        defer { epoll.shutdown() }
        #expect(epoll.eventLoop == .epoll, "libwebsockets-evlib-ev is not installed: every wake-up walks every socket")
        let poll = try TransportRuntime(preferring: .poll)
        defer { poll.shutdown() }
        #expect(poll.eventLoop == .poll)
    }

    @Test("on either loop a Web API call is answered, and a silent server's deadline fires when due")
    func timersOnBothLoops() async throws {
        let sim = try startSim()
        defer { sim.stop() }
        let (peer, silentPort) = try startStallingPeer("silent")
        defer { peer.stop() }
        for loop in [TransportRuntime.EventLoop.epoll, .poll] {
            let runtime = try TransportRuntime(preferring: loop)
            defer { runtime.shutdown() }
            #expect(await within(30) { await authTest(runtime, port: sim.port) } == "answered", "\(loop)")
            let started = ContinuousClock.now
            let outcome = await within(30) { await authTest(runtime, port: silentPort, timeout: .seconds(1)) }
            #expect(outcome == "timeout: no answer to auth.test within 1 s (HTTP answer)", "\(loop)")
            // Fires when due, not at some later wake-up (a liveness bound, not a timing).
            #expect(ContinuousClock.now - started < .seconds(20), "\(loop)")
        }
    }
}
