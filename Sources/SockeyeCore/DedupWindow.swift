/// Remembers which events were delivered recently, to drop Slack's redeliveries.
///
/// Events are keyed by (team_id, event_id), never by envelope_id: a retry carries a new
/// envelope id but the same event id. Envelopes without an event id (slash commands,
/// interactions) are keyed by envelope_id, which a redelivery of them keeps. Entries live for `ttl` (default 15 min;
/// Slack's last retry comes about 5 min after the first delivery). Memory is bounded:
/// at most `capacity` entries, the oldest evicted first (counted in `evictedEarly`).
///
/// Keys are digests of the two strings, so no allocation is made per event. The window
/// stores a 64-bit fingerprint of each in a compact table (`FingerprintTable`: 16 bytes an
/// entry, about 2 MiB at the default capacity, small enough to stay in cache), so a check
/// costs one or two cache lines. Two events sharing a fingerprint would make the second look
/// like a redelivery; with 100 000 events remembered that chance is ~5·10⁻¹⁵ per event, and
/// it is ignored.
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

        /// The key of an envelope without an event id (a slash command, an interaction),
        /// by its `envelope_id` (decoded UTF-8 bytes). A byte that is not valid UTF-8 starts
        /// it, so it never equals the key of a (team, event) pair.
        public init(envelopeID: UnsafeRawBufferPointer) {
            let marker: [UInt8] = [0xFE]
            self = marker.withUnsafeBytes { Key(teamID: $0, eventID: envelopeID) }
        }

        /// The 64-bit fingerprint the window and the ack tracker store.
        var fingerprint: UInt64 { FingerprintTable.key(high ^ (low &* 0xD6E8_FEB8_6659_FD93)) }

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

    private var members = FingerprintTable()
    /// Fingerprints in insertion order with their expiry (nanoseconds), oldest at `head`.
    private var order: [(fingerprint: UInt64, expires: UInt64)] = []
    private var head = 0
    private let ttlNanoseconds: UInt64

    /// A window remembering keys for `ttl`, at most `capacity` of them.
    public init(ttl: Duration = .seconds(900), capacity: Int = 100_000) {
        self.ttl = ttl
        self.capacity = max(1, capacity)
        ttlNanoseconds = UInt64(max(0, ttl.nanosecondsClamped))
    }

    /// When the oldest key expires.
    public var nextExpiry: Instant? { head < order.count ? Instant(nanoseconds: order[head].expires) : nil }

    /// Number of keys remembered now.
    public var count: Int { members.count }

    /// Records `key` at `now`; returns `false` when it was already there (a duplicate).
    public mutating func insert(_ key: Key, now: Instant) -> Bool {
        expire(now: now)
        let fingerprint = key.fingerprint
        let (sum, overflow) = now.nanoseconds.addingReportingOverflow(ttlNanoseconds)
        let expires = overflow ? UInt64.max : sum
        if members.count >= capacity {
            guard members.value(for: fingerprint) == nil else { return false }
            evictOldest()
            evictedEarly += 1
        }
        guard members.insertIfAbsent(expires, for: fingerprint) else { return false }
        order.append((fingerprint, expires))
        return true
    }

    /// Whether `key` is remembered at `now`.
    public mutating func contains(_ key: Key, now: Instant) -> Bool {
        expire(now: now)
        return members.value(for: key.fingerprint) != nil
    }

    /// Forgets `key`, so that its next delivery is not a duplicate (used when an event was
    /// delivered but never acknowledged, so Slack's retry must reach the host again).
    public mutating func remove(_ key: Key) {
        members.remove(key.fingerprint)
    }

    /// Forgets keys whose TTL has passed. Entries expire in insertion order because the
    /// TTL is the same for all.
    public mutating func expire(now: Instant) {
        while head < order.count, order[head].expires <= now.nanoseconds {
            evictOldest()
        }
    }

    private mutating func evictOldest() {
        guard head < order.count else { return }
        let oldest = order[head]
        // Only if it is still this insertion (not removed and inserted again since).
        members.remove(oldest.fingerprint, ifValueIs: oldest.expires)
        head += 1
        // Compact the queue once the dead prefix dominates, keeping appends amortised O(1).
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
