import NIOCore
import Testing

@testable import SockeyeHTTP

/// The connection cap evicts the longest-idle connection: a connection the server has just
/// registered must not look the oldest before its handler records its time.
@Suite("ConnectionSlot")
struct ConnectionSlotTests {
    @Test("a new slot is idle since its creation, not since boot, so it is never the first evicted")
    func newSlotIsYoung() {
        let before = NIODeadline.now()
        let slot = ConnectionSlot()
        guard let since = slot.idleSince else {
            Issue.record("a new slot is not idle")
            return
        }
        #expect(since >= before)
        #expect(since <= NIODeadline.now())
    }

    @Test("a slot with a request in progress is not idle; once answered it is idle from then")
    func busyThenIdle() {
        let slot = ConnectionSlot()
        slot.idleSince = nil
        #expect(slot.idleSince == nil)
        let later = NIODeadline.now() + .seconds(5)
        slot.idleSince = later
        #expect(slot.idleSince == later)
    }
}
