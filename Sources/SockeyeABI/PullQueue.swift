import CSockeye
import Glibc
import SockeyeTransport

/// A client's pull queue: events waiting for `sockeye_client_next_event`, a condition for
/// blocking takers, and an eventfd that is readable while events are queued (or once the
/// client has ended), for hosts that run their own poll/epoll loop.
///
/// The eventfd's counter is kept at 0 or 1 under the mutex: set when the queue becomes
/// non-empty (or the client ends), cleared when a taker empties it. So the descriptor's
/// readiness always matches "there is something to take", whatever thread takes.
final class PullQueue: @unchecked Sendable {
    private let lock = ServiceLock()
    private var events: [OpaquePointer] = []
    private var head = 0
    private var signalled = false
    private var ended: Ending?
    private var isShutDown = false
    /// Whether the host asked for the descriptor: until then it is never written or read,
    /// so a host that only calls `take` pays no system call for it.
    private var fdInUse = false
    /// -1 once closed.
    private var fd: Int32

    /// Why no more events will come.
    enum Ending { case stopped, failed }

    /// What `take` found.
    enum Taken {
        case event(OpaquePointer)
        case timeout
        case ended(Ending)
    }

    init() throws(ABIFailure) {
        fd = sockeye_shim_eventfd()
        guard fd >= 0 else { throw ABIFailure(SOCKEYE_E_SYSTEM, "eventfd: errno \(errno)") }
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    @inline(__always)
    private func locked<R>(_ body: () -> R) -> R {
        lock.withLock(body)
    }

    /// Appends a batch of event handles and wakes takers once. Returns the handles it
    /// refused: all of them once the queue is shut down.
    func append(_ batch: [OpaquePointer]) -> [OpaquePointer] {
        guard !batch.isEmpty else { return [] }
        return locked {
            guard !isShutDown else { return batch }
            events.append(contentsOf: batch)
            raise()
            lock.broadcast()
            return []
        }
    }

    /// Marks the queue ended (stopped or failed): takers get `.ended` once it is empty.
    /// A failed client may still deliver (until Slack closes its connections); a stop is final.
    func end(_ ending: Ending) {
        locked {
            if ended != .stopped { ended = ending }
            raise()
            lock.broadcast()
        }
    }

    /// The descriptor for the host's poll loop; from now on it follows the queue.
    var descriptor: Int32 {
        locked {
            if !fdInUse {
                fdInUse = true
                if head < events.count || ended != nil { raise() }
            }
            return fd
        }
    }

    /// Takes the next event, waiting up to `timeoutMilliseconds` (negative: no limit).
    func take(timeoutMilliseconds: Int32) -> Taken {
        var taken: OpaquePointer?
        let outcome = take(upTo: 1, timeoutMilliseconds: timeoutMilliseconds) { taken = $0 }
        if let outcome { return outcome }
        return .event(taken!)
    }

    /// Waits up to `timeoutMilliseconds` (0: not at all; negative: without limit) for an
    /// event, then hands `body` that one and whatever else is queued, `capacity` at most,
    /// in order, under the queue's lock (`body` must only store them). Returns nil when
    /// `body` got at least one, else why not (`.timeout` or `.ended`).
    func take(upTo capacity: Int, timeoutMilliseconds: Int32, _ body: (OpaquePointer) -> Void) -> Taken? {
        precondition(capacity > 0)
        return locked {
            var deadline: UInt64?
            while true {
                if head < events.count {
                    let end = head + min(capacity, events.count - head)
                    for index in head..<end { body(events[index]) }
                    head = end
                    if head == events.count {
                        events.removeAll(keepingCapacity: true)
                        head = 0
                    } else if head >= 1024 && head * 2 >= events.count {
                        events.removeFirst(head)
                        head = 0
                    }
                    lowerIfIdle()
                    return nil
                }
                if let ended { return .ended(ended) }
                if timeoutMilliseconds == 0 { return .timeout }
                if timeoutMilliseconds < 0 {
                    lock.wait()
                    continue
                }
                if deadline == nil { deadline = MonotonicClock.deadline(afterMilliseconds: timeoutMilliseconds) }
                if !lock.wait(until: deadline!) {
                    if head < events.count { continue }
                    if let ended { return .ended(ended) }
                    return .timeout
                }
            }
        }
    }

    /// Empties the queue (client freed), stops it for good and closes the descriptor.
    func shutDown() -> [OpaquePointer] {
        locked {
            let left = Array(events[head...])
            events.removeAll()
            head = 0
            ended = .stopped
            isShutDown = true
            if fd >= 0 {
                close(fd)
                fd = -1
            }
            lock.broadcast()
            return left
        }
    }

    var count: Int { locked { events.count - head } }

    // MARK: Under the mutex

    private func raise() {
        guard fdInUse, !signalled, fd >= 0 else { return }
        signalled = true
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    private func lowerIfIdle() {
        guard signalled, head >= events.count, ended == nil, fd >= 0 else { return }
        signalled = false
        var value: UInt64 = 0
        _ = read(fd, &value, 8)
    }
}
