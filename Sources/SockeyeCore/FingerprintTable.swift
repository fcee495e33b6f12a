/// A hash map from 64-bit fingerprints to 64-bit values, made for the lookups the receive
/// path does for every envelope (de-duplication, held redeliveries).
///
/// One 16-byte slot per entry, key and value side by side, so a probe touches one cache
/// line; open addressing with linear probing; deletion by backward shift, so there are no
/// tombstones and lookups never slow down with churn; the table doubles at 3/4 load. Keys
/// are digests that are already well mixed, so the slot index is one multiply (Fibonacci
/// hashing) rather than a SipHash per lookup. Key 0 marks an empty slot: `key(_:)` maps a
/// digest that happens to be 0 to 1.
struct FingerprintTable {
    private struct Slot {
        var key: UInt64
        var value: UInt64
    }

    private var slots: [Slot]
    private var shift: UInt64
    /// Entries stored.
    private(set) var count = 0

    /// A table that holds `minimumCapacity` entries before it first grows.
    init(minimumCapacity: Int = 48) {
        var size = 64
        while size * 3 / 4 < minimumCapacity { size *= 2 }
        slots = Array(repeating: Slot(key: 0, value: 0), count: size)
        shift = UInt64(64 - size.trailingZeroBitCount)
    }

    /// A usable (nonzero) key for a 64-bit digest.
    @inline(__always)
    static func key(_ digest: UInt64) -> UInt64 { digest == 0 ? 1 : digest }

    @inline(__always)
    private func home(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The slot holding `key`, or the empty slot where it would go.
    @inline(__always)
    private func find(_ key: UInt64) -> (index: Int, found: Bool) {
        let mask = slots.count - 1
        var index = home(key)
        while true {
            let probe = slots[index].key
            if probe == key { return (index, true) }
            if probe == 0 { return (index, false) }
            index = (index + 1) & mask
        }
    }

    /// The value stored for `key`.
    func value(for key: UInt64) -> UInt64? {
        let (index, found) = find(key)
        return found ? slots[index].value : nil
    }

    /// Stores `value` for `key` unless the key is there; returns false (and changes
    /// nothing) when it was.
    mutating func insertIfAbsent(_ value: UInt64, for key: UInt64) -> Bool {
        let (index, found) = find(key)
        if found { return false }
        store(value, for: key, at: index)
        return true
    }

    /// Stores `value` for `key`, replacing any value there.
    mutating func set(_ value: UInt64, for key: UInt64) {
        let (index, found) = find(key)
        if found {
            slots[index].value = value
        } else {
            store(value, for: key, at: index)
        }
    }

    private mutating func store(_ value: UInt64, for key: UInt64, at index: Int) {
        if (count + 1) * 4 > slots.count * 3 {
            grow()
            set(value, for: key)
            return
        }
        slots[index] = Slot(key: key, value: value)
        count += 1
    }

    /// Removes `key` when its value is `expected` (or whatever it is, when `expected` is
    /// nil); returns whether an entry was removed.
    @discardableResult
    mutating func remove(_ key: UInt64, ifValueIs expected: UInt64? = nil) -> Bool {
        let (found, present) = find(key)
        guard present, expected == nil || slots[found].value == expected else { return false }
        // Backward-shift deletion: pull later entries of the probe run into the hole when
        // the hole lies on their way from their home slot.
        let mask = slots.count - 1
        var hole = found
        var index = (hole + 1) & mask
        while slots[index].key != 0 {
            let wanted = home(slots[index].key)
            // Distance from home to the entry, and from home to the hole, along the probe run.
            if (index &- wanted) & mask >= (index &- hole) & mask {
                slots[hole] = slots[index]
                hole = index
            }
            index = (index + 1) & mask
        }
        slots[hole] = Slot(key: 0, value: 0)
        count -= 1
        return true
    }

    /// Forgets every entry, keeping the memory.
    mutating func removeAll() {
        for index in slots.indices { slots[index] = Slot(key: 0, value: 0) }
        count = 0
    }

    private mutating func grow() {
        let old = slots
        slots = Array(repeating: Slot(key: 0, value: 0), count: old.count * 2)
        shift -= 1
        count = 0
        for slot in old where slot.key != 0 {
            let (index, _) = find(slot.key)
            slots[index] = slot
            count += 1
        }
    }
}
