import Foundation
import Testing
@testable import SockeyeSim

@Suite("Open-loop rate mode paces itself")
struct RatePacingTests {
    // Whether the schedule was kept (send lag, the verdict) depends on the machine's load: the
    // simulator-load benchmark prints it. This test checks what does not: the thread sleeps.
    @Test("at 1 000 envelopes/s the service thread sleeps between sends: paced, few loop passes, well under half a core")
    func sleepsBetweenSends() throws {
        let h = try Harness()
        let (ws, _) = try h.connect()
        let total = 2000
        let acked = ResultBox<Int>()
        let client = UncheckedBox(value: ws)
        let done = DispatchSemaphore(value: 0)
        let server = h.server
        let passesBefore = server.sync { _, _ in server.servicePasses }
        Thread {
            acked.value = ackAll(client.value, count: total, timeout: 30)
            done.signal()
        }.start()
        #expect(server.startLoad(LoadSpec(rate: 1000, total: total, sizes: [1024])))
        done.wait()
        #expect(acked.value == total)
        let deadline = Date().addingTimeInterval(5)
        while !server.loadDone(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let passes = server.sync { _, _ in server.servicePasses } - passesBefore
        let r = server.report()
        #expect(r.total.acked == total)
        #expect(r.elapsedSeconds > 1.5)
        // Service-thread CPU time over the run's wall time. Spinning costs a whole core on an
        // idle machine; sleeping until the next send a few %.
        let busy = try #require(r.simBusyFraction)
        #expect(busy < 0.5, "service thread busy \(busy)")
        // On a crowded machine a spinning thread gets only its share of a core, so also
        // count the loop's passes: a wake-up per send, one per ack, one per housekeeping
        // tick — a spinning loop makes thousands per envelope, whatever its CPU share.
        #expect(Double(passes) / Double(total) < 10, "\(passes) service-loop passes for \(total) envelopes")
    }

    @Test("a run that fell behind its schedule on an idle service thread is not blamed on the sim")
    func lagVerdict() {
        #expect(LoadVerdict.rate(maxLag: 0.01, busy: 0.99) == "none (kept the schedule)")
        #expect(LoadVerdict.rate(maxLag: 0.2, busy: 0.95) == "sim")
        #expect(LoadVerdict.rate(maxLag: 0.2, busy: 0.3) == "client")
        #expect(LoadVerdict.window(busy: 0.95) == "sim")
        #expect(LoadVerdict.window(busy: 0.5) == "client")
    }
}
