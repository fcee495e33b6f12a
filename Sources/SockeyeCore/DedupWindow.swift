/// Remembers which events were delivered recently, to drop Slack's redeliveries.
///
/// Keyed by (team_id, event_id), never by envelope_id: a retry carries a new envelope id
/// but the same event id (PROTOCOL.md §3.4). Entries live for `ttl` (default 15 min;
/// Slack's last retry comes about 5 min after the first delivery). Memory is bounded:
/// at most `capacity` entries, the oldest evicted first (counted in `evictedEarly`).
///
/// Keys are stored as a 128-bit digest of the two strings, so no allocation is made per
/// event; two different keys colliding needs ~2^64 events and is ignored.
public struct DedupWindow: Sendable {
    /// The digest of one (team_id, event_id) pair.
    public struct Key: Sendable, Hashable {
        let high: UInt64
        let low: UInt64

        public func hash(into hasher: inout Hasher) { hasher.combine(high) }

        /// The key is already a well-mixed digest: hash tables use it with the table's seed
        /// folded in, instead of running SipHash over it for every lookup (which cost more
        /// than the rest of de-duplication on the receive path).
        public func _rawHashValue(seed: Int) -> Int {
            var mixed = high ^ UInt64(UInt(bitPattern: seed))
            mixed = (mixed ^ (mixed >> 31)) &* 0x9E37_79B9_7F4A_7C15
            return Int(truncatingIfNeeded: mixed ^ (mixed >> 29))
        }

        /// The key of `eventID` in `teamID` (decoded UTF-8 bytes).
        public init(teamID: UnsafeRawBufferPointer, eventID: UnsafeRawBufferPointer) {
            var a: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a offset basis
            var b: UInt64 = 0x6C62_272E_07BB_0142  // a second, independent stream
            @inline(__always) func mix(_ byte: UInt8) {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
                b = (b ^ UInt64(byte)) &* 0x9E37_79B9_7F4A_7C15
                b ^= b >> 29
            }
            for byte in teamID { mix(byte) }
            mix(0xFF)  // not valid UTF-8: separates the two fields unambiguously
            for byte in eventID { mix(byte) }
            high = a
            low = b
        }

        /// The key of Swift strings (convenience for tests and hosts).
        public init(teamID: String, eventID: String) {
            var team = teamID
            var event = eventID
            self = team.withUTF8 { t in
                event.withUTF8 { e in Key(teamID: UnsafeRawBufferPointer(t), eventID: UnsafeRawBufferPointer(e)) }
            }
        }
    }

    /// How long a key is remembered.
    public let ttl: Duration
    /// The most keys remembered at once.
    public let capacity: Int
    /// Keys evicted before their TTL because the window was full.
    public private(set) var evictedEarly = 0

    private var members: [Key: Instant] = [:]
    private var order: [(key: Key, expires: Instant)] = []
    private var head = 0

    /// A window remembering keys for `ttl`, at most `capacity` of them.
    public init(ttl: Duration = .seconds(900), capacity: Int = 100_000) {
        self.ttl = ttl
        self.capacity = max(1, capacity)
    }

    /// When the oldest key expires.
    public var nextExpiry: Instant? { head < order.count ? order[head].expires : nil }

    /// Number of keys remembered now.
    public var count: Int { members.count }

    /// Records `key` at `now`; returns `false` when it was already there (a duplicate).
    public mutating func insert(_ key: Key, now: Instant) -> Bool {
        expire(now: now)
        guard members[key] == nil else { return false }
        if members.count >= capacity {
            evictOldest()
            evictedEarly += 1
        }
        let expires = now + ttl
        members[key] = expires
        order.append((key, expires))
        return true
    }

    /// Whether `key` is remembered at `now`.
    public mutating func contains(_ key: Key, now: Instant) -> Bool {
        expire(now: now)
        return members[key] != nil
    }

    /// Forgets `key`, so that its next delivery is not a duplicate (used when an event was
    /// delivered but never acknowledged, so Slack's retry must reach the host again).
    public mutating func remove(_ key: Key) {
        members[key] = nil
    }

    /// Forgets keys whose TTL has passed. Entries expire in insertion order because the
    /// TTL is the same for all.
    public mutating func expire(now: Instant) {
        while head < order.count, order[head].expires <= now {
            evictOldest()
        }
    }

    private mutating func evictOldest() {
        guard head < order.count else { return }
        let oldest = order[head]
        if members[oldest.key] == oldest.expires { members[oldest.key] = nil }
        head += 1
        // Compact the queue once the dead prefix dominates, keeping appends amortised O(1).
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
