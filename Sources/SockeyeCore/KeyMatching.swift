/// Comparing keys and short string values with known names, without allocating.
///
/// A key may legally be written with escapes (`"envelope\u005fid"` is the key
/// `envelope_id`), so an escaped view is decoded into a small stack buffer first; names we
/// look for are short, so a view that decodes to more than `maxNameLength` bytes matches
/// nothing.
@usableFromInline
enum KeyMatching {
    @usableFromInline static let maxNameLength = 32

    /// Calls `body` with the decoded bytes of `view` (a validated string view into `base`),
    /// or with an empty buffer and `false` when it is too long to be a known name.
    @inlinable @inline(__always)
    static func withName<R>(
        _ view: ByteView, base: UnsafePointer<UInt8>,
        _ body: (UnsafeRawBufferPointer) -> R
    ) -> R {
        let raw = UnsafeRawBufferPointer(start: base + view.offset, count: view.length)
        if !view.isEscaped {
            return body(raw)
        }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: maxNameLength) { scratch in
            guard let length = JSONStringDecoder.decode(raw, into: UnsafeMutableRawBufferPointer(scratch)) else {
                return body(UnsafeRawBufferPointer(start: nil, count: 0))
            }
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<length]))
        }
    }

    /// Whether `bytes` spell `name`.
    @inlinable @inline(__always)
    static func equals(_ bytes: UnsafeRawBufferPointer, _ name: StaticString) -> Bool {
        let length = name.utf8CodeUnitCount
        guard bytes.count == length, let start = bytes.baseAddress else { return length == 0 && bytes.count == 0 }
        return memcmpEqual(start, UnsafeRawPointer(name.utf8Start), length)
    }

    @inlinable @inline(__always)
    static func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ length: Int) -> Bool {
        var i = 0
        while i + 8 <= length {
            if a.loadUnaligned(fromByteOffset: i, as: UInt64.self) != b.loadUnaligned(fromByteOffset: i, as: UInt64.self) {
                return false
            }
            i += 8
        }
        while i < length {
            if a.load(fromByteOffset: i, as: UInt8.self) != b.load(fromByteOffset: i, as: UInt8.self) { return false }
            i += 1
        }
        return true
    }
}
