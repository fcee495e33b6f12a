/// RFC 6455 §5.3 masking: byte `i` of a payload is XORed with byte `i % 4` of the key.
///
/// Every client frame is masked, so this runs over every byte the client sends: it works on
/// eight bytes at a time (the key repeated twice in one word), then on the last few bytes
/// one at a time. Applying the same key again unmasks.
enum WebSocketMasking {
    /// XORs `bytes` in place with `key` (the four key bytes in wire order), starting at key
    /// byte 0.
    static func apply(key: (UInt8, UInt8, UInt8, UInt8), to bytes: UnsafeMutableRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        let count = bytes.count
        // The key twice, laid out in memory order, then read back as a native word: XORing
        // a word loaded from the payload with it applies the key to each byte in order,
        // whatever the machine's byte order.
        var pattern: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (key.0, key.1, key.2, key.3, key.0, key.1, key.2, key.3)
        let word = withUnsafeBytes(of: &pattern) { $0.loadUnaligned(as: UInt64.self) }
        var offset = 0
        // Four words per round: fewer loop branches, and the compiler may use vector registers.
        while offset + 32 <= count {
            // Safe: offset + 32 <= count, so all 32 bytes lie inside `bytes`.
            let a = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            let b = base.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self)
            let c = base.loadUnaligned(fromByteOffset: offset + 16, as: UInt64.self)
            let d = base.loadUnaligned(fromByteOffset: offset + 24, as: UInt64.self)
            base.storeBytes(of: a ^ word, toByteOffset: offset, as: UInt64.self)
            base.storeBytes(of: b ^ word, toByteOffset: offset + 8, as: UInt64.self)
            base.storeBytes(of: c ^ word, toByteOffset: offset + 16, as: UInt64.self)
            base.storeBytes(of: d ^ word, toByteOffset: offset + 24, as: UInt64.self)
            offset += 32
        }
        while offset + 8 <= count {
            // Safe: offset + 8 <= count.
            let a = base.loadUnaligned(fromByteOffset: offset, as: UInt64.self)
            base.storeBytes(of: a ^ word, toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        // The pattern repeats the key with period 4, so pattern[offset % 8] is the key byte
        // for `offset`.
        withUnsafeBytes(of: &pattern) { key in
            while offset < count {
                bytes[offset] ^= key[offset & 7]
                offset += 1
            }
        }
    }
}
