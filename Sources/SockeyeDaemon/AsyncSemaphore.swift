/// A counting semaphore for tasks: `acquire` suspends while no slot is free.
public actor AsyncSemaphore {
    private var free: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// A semaphore with `slots` free slots (at least one).
    public init(_ slots: Int) { free = max(1, slots) }

    /// Takes a slot, waiting for one when none is free.
    public func acquire() async {
        if free > 0 {
            free -= 1
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    /// Gives a slot back (to the longest waiter, if any).
    public func release() {
        if waiters.isEmpty {
            free += 1
        } else {
            waiters.removeFirst().resume()
        }
    }
}
