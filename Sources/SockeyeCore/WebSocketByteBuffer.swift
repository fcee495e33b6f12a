/// A growable byte buffer for the WebSocket codec: appends copy with one `memcpy`-like move,
/// space can be reserved and written in place (the ack encoder writes straight into it), and
/// bytes are consumed from the front without moving the rest until it pays off.
///
/// `[UInt8]` would zero-fill before every in-place write and move the whole tail on every
/// `removeFirst`; the codec's hot paths (reassembly, coalesced acks, partial socket writes)
/// do both all the time. Copy-on-write keeps value semantics: a copied decoder or writer
/// never shares bytes it is about to change.
struct WebSocketByteBuffer {
    /// Owns the allocation; freed when the last buffer value referring to it goes away.
    final class Storage {
        let base: UnsafeMutableRawPointer
        let capacity: Int

        init(capacity: Int) {
            self.capacity = capacity
            base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(capacity, 1), alignment: 16)
        }

        deinit { base.deallocate() }
    }

    private var storage: Storage
    /// The readable bytes are `storage.base[start..<end]`.
    private var start = 0
    private var end = 0

    /// An empty buffer with room for `capacity` bytes.
    init(capacity: Int = 0) {
        storage = Storage(capacity: capacity)
    }

    /// Bytes held.
    var count: Int { end - start }

    var isEmpty: Bool { end == start }

    /// Calls `body` with a view of the bytes held; valid only inside `body`.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Safe: `storage` is kept alive by `self` for the duration of the call, and
        // `start..<end` lies inside its allocation.
        try body(UnsafeRawBufferPointer(start: storage.base + start, count: end - start))
    }

    /// Appends a copy of `bytes`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        let destination = reserveForWriting(bytes.count)
        destination.copyMemory(from: source, byteCount: bytes.count)
        end += bytes.count
    }

    /// Makes room for at least `byteCount` more bytes and returns where they go. The space
    /// is not part of the buffer until `commit(_:)`; any other mutation invalidates it.
    mutating func reserveForWriting(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if !isKnownUniquelyReferenced(&storage) || storage.capacity - end < byteCount {
            grow(minimumFree: byteCount)
        }
        return storage.base + end
    }

    /// Adds `byteCount` bytes written after a `reserveForWriting` of at least that many.
    mutating func commit(_ byteCount: Int) {
        assert(byteCount >= 0 && end + byteCount <= storage.capacity)
        end += byteCount
    }

    /// Mutable access to the bytes held (for masking in place).
    mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { grow(minimumFree: 0) }
        // Safe: as in `withUnsafeBytes`, and the storage is now owned by this value alone.
        return try body(UnsafeMutableRawBufferPointer(start: storage.base + start, count: end - start))
    }

    /// Drops the first `byteCount` bytes (all of them when `byteCount >= count`).
    mutating func removeFirst(_ byteCount: Int) {
        guard byteCount < count else {
            removeAll()
            return
        }
        guard byteCount > 0 else { return }
        if !isKnownUniquelyReferenced(&storage) { grow(minimumFree: 0) }
        start += byteCount
    }

    /// Drops every byte and keeps the allocation.
    mutating func removeAll() {
        start = 0
        end = 0
    }

    /// Moves the held bytes to the front of a fresh or the same allocation so that at least
    /// `minimumFree` bytes follow them. Grows geometrically, so appends are amortised O(1)
    /// and a buffer reused at a steady size stops allocating.
    private mutating func grow(minimumFree: Int) {
        let held = count
        let unique = isKnownUniquelyReferenced(&storage)
        if unique && storage.capacity - held >= minimumFree {
            // Enough room once the consumed front is reclaimed. `copyMemory` is a memmove:
            // the regions may overlap.
            storage.base.copyMemory(from: storage.base + start, byteCount: held)
            start = 0
            end = held
            return
        }
        let needed = held + minimumFree
        var capacity = Swift.max(storage.capacity, 64)
        while capacity < needed { capacity *= 2 }
        let fresh = Storage(capacity: capacity)
        fresh.base.copyMemory(from: storage.base + start, byteCount: held)
        storage = fresh
        start = 0
        end = held
    }
}
