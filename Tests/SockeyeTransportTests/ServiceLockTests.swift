import Foundation
import SockeyeTransport
import Testing

/// A flag shared between two threads, read and written only under `lock`.
private final class Flag: @unchecked Sendable {
    let lock = ServiceLock()
    var isSet = false
}

@Suite("the one lock and the one monotonic clock")
struct ServiceLockTests {
    @Test("a timed wait nobody signals returns false, and only once the monotonic clock has reached its deadline")
    func timedWaitCountsOnTheMonotonicClock() {
        let lock = ServiceLock()
        let deadline = MonotonicClock.deadline(afterMilliseconds: 100)
        let returnedAt: UInt64 = lock.withLock {
            // true means woken (spuriously: nobody signals); wait again for the same deadline.
            while lock.wait(until: deadline) {}
            return MonotonicClock.now()
        }
        // A condition variable on another clock than MonotonicClock's would return at once
        // (or far too late) for this deadline.
        #expect(returnedAt >= deadline)
    }

    @Test("a broadcast wakes a thread waiting for the flag it set; the waiter sees the flag")
    func broadcastWakesAWaiter() async {
        let flag = Flag()
        let waited = Task.detached { () -> Bool in
            let deadline = MonotonicClock.deadline(afterMilliseconds: 30_000)
            return flag.lock.withLock {
                while !flag.isSet, MonotonicClock.now() < deadline { _ = flag.lock.wait(until: deadline) }
                return flag.isSet
            }
        }
        let setter = Thread {
            flag.lock.withLock {
                flag.isSet = true
                flag.lock.broadcast()
            }
        }
        setter.start()
        #expect(await waited.value)
    }

    @Test("deadlines: a negative timeout is now, and the longest one does not overflow")
    func deadlines() {
        let before = MonotonicClock.now()
        #expect(MonotonicClock.deadline(afterMilliseconds: -5) <= MonotonicClock.now())
        #expect(MonotonicClock.deadline(afterMilliseconds: -5) >= before)
        #expect(MonotonicClock.deadline(afterMilliseconds: .max) >= before + UInt64(Int32.max) * 1_000_000)
    }
}
