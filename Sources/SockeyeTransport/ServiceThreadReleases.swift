import Glibc
import Synchronization

/// Memory the service thread allocated for an event and a host thread is done with, handed
/// back so the service thread frees it.
///
/// Why: the service thread allocates every frame (1 KB and more, past glibc's per-thread
/// cache) and the host's thread used to free it. A free from another thread takes the lock
/// of the arena the block came from, the one the service thread is allocating the next
/// frames from, and at a few hundred thousand events a second the two threads met on that
/// lock often enough to cost 5–15 % of the throughput (`futex` calls per event doubled).
/// Here a host thread only appends a pointer under a lock of its own, and the service thread
/// frees a whole batch where it allocates.
///
/// Bounded: at most `maxItems` entries and `maxBytes` bytes wait; past either, `give`
/// refuses and the caller frees as before. A refusal also comes on the service thread
/// itself (it may free at once) and once the runtime has ended (`close`).
///
/// Threading: `give` from any thread; `drain` and `close` on the service thread only.
final class ServiceThreadReleases: @unchecked Sendable {
    /// One thing to free.
    enum Item {
        /// A reference (`passRetained`) to drop.
        case reference(Unmanaged<AnyObject>)
        /// A `malloc` block to `free`.
        case memory(UnsafeMutableRawPointer)
    }

    static let maxItems = 1024
    static let maxBytes = 8 * 1024 * 1024

    private let lock = ServiceLock()
    private var items: [Item] = []  // under `lock`
    private var bytes = 0  // under `lock`
    private var closed = false  // under `lock`
    /// `items.count`, readable without the lock: `drain` skips the lock when it is 0.
    private let pending = Atomic<Int>(0)
    /// The array `drain` swaps in, so a steady stream allocates nothing (service thread).
    private var spare: [Item] = []

    init() {
        items.reserveCapacity(64)
        spare.reserveCapacity(64)
    }

    /// Whatever is still queued (a runtime that ended without `close`) is freed, not leaked.
    deinit {
        for item in items { Self.free(item) }
    }

    /// Queues `item` (about `byteCount` bytes) for the service thread. Returns false when it
    /// was not taken: the caller keeps the duty to free it. Any thread.
    func give(_ item: Item, byteCount: Int) -> Bool {
        lock.withLock {
            guard !closed, items.count < Self.maxItems, byteCount <= Self.maxBytes - bytes else { return false }
            items.append(item)
            bytes += byteCount
            pending.store(items.count, ordering: .relaxed)
            return true
        }
    }

    /// Frees everything queued (service thread).
    func drain() {
        // A give that this relaxed read misses is freed by the next drain.
        guard pending.load(ordering: .relaxed) > 0 else { return }
        var batch = lock.withLock { () -> [Item] in
            var taken = spare
            swap(&taken, &items)
            bytes = 0
            pending.store(0, ordering: .relaxed)
            return taken
        }
        guard !batch.isEmpty else { return }
        for item in batch { Self.free(item) }
        batch.removeAll(keepingCapacity: true)
        spare = batch
    }

    /// Frees what is queued and refuses everything from now on (service thread, as the
    /// runtime ends).
    func close() {
        lock.withLock { closed = true }
        drain()
    }

    private static func free(_ item: Item) {
        switch item {
        case .reference(let reference): reference.release()
        case .memory(let memory): Glibc.free(memory)
        }
    }
}
