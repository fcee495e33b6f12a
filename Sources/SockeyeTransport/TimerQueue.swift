/// What `TimerQueue` keeps on each timer: its due time while scheduled, and a counter that
/// tells its current heap entry from stale ones. Only the queue changes them.
protocol QueuedTimer: AnyObject {
    var queuedDue: UInt64? { get set }
    var generation: UInt64 { get set }
}

/// The service thread's deadlines, earliest first: a binary min-heap of (due time, timer)
/// with lazy removal. Rescheduling or cancelling a timer leaves its old entry in the heap,
/// recognised as stale by its generation and dropped when it reaches the top; the heap is
/// rebuilt from the live entries when stale ones outnumber them, so its size stays within a
/// small multiple of the timers scheduled. Entries hold their timers strongly (a weak
/// reference's side table would hide from LeakSanitizer behind a tagged pointer): a timer
/// stays alive while it is scheduled, so its owner cancels it before it goes.
///
/// Sans-IO: it reads no clock and arms nothing; `TransportRuntime` arms one timerfd for
/// `earliest()` before it waits and fires what `takeDue(now:)` returns when that expires.
/// Service thread only (not thread-safe).
struct TimerQueue<Timer: QueuedTimer> {
    private struct Entry {
        let due: UInt64
        let generation: UInt64
        let timer: Timer
    }

    private var heap: [Entry] = []
    /// Timers scheduled and not yet fired or cancelled.
    private(set) var liveCount = 0

    /// Entries in the heap, stale ones included (for tests and the compaction bound).
    var storedCount: Int { heap.count }

    /// Schedules `timer` at `due` (monotonic nanoseconds), replacing its earlier schedule.
    mutating func schedule(_ timer: Timer, at due: UInt64) {
        if timer.queuedDue == nil { liveCount += 1 }
        timer.generation &+= 1
        timer.queuedDue = due
        push(Entry(due: due, generation: timer.generation, timer: timer))
        if heap.count > 64 && heap.count > 4 * liveCount { compact() }
    }

    /// Takes `timer` out: it will not fire for its current schedule.
    mutating func cancel(_ timer: Timer) {
        guard timer.queuedDue != nil else { return }
        timer.queuedDue = nil
        timer.generation &+= 1
        liveCount -= 1
    }

    /// The earliest due time of a live timer, or nil when none is scheduled.
    mutating func earliest() -> UInt64? {
        dropStaleTop()
        return heap.first?.due
    }

    /// Removes every timer due at `now` or earlier, earliest first, and returns them; the
    /// caller fires them (a fired timer may schedule itself or others again).
    mutating func takeDue(now: UInt64) -> [Timer] {
        var due: [Timer] = []
        while true {
            dropStaleTop()
            guard let top = heap.first, top.due <= now else { break }
            let timer = top.timer
            popTop()
            timer.queuedDue = nil
            timer.generation &+= 1
            liveCount -= 1
            due.append(timer)
        }
        return due
    }

    private func isLive(_ entry: Entry) -> Bool {
        entry.timer.generation == entry.generation && entry.timer.queuedDue != nil
    }

    private mutating func dropStaleTop() {
        while let top = heap.first, !isLive(top) { popTop() }
    }

    private mutating func compact() {
        heap = heap.filter(isLive)
        // Floyd's heap construction: sift down from the last parent.
        var index = heap.count / 2
        while index > 0 {
            index -= 1
            siftDown(from: index)
        }
    }

    private mutating func push(_ entry: Entry) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].due < heap[parent].due else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        siftDown(from: 0)
    }

    private mutating func siftDown(from start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            if left + 1 < heap.count, heap[left + 1].due < heap[left].due { smallest = left + 1 }
            guard heap[smallest].due < heap[parent].due else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
