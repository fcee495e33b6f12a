/// One fixture's bytes in a 64-byte-aligned allocation with zeroed padding after the end.
///
/// simdjson reads up to `SIMDJSON_PADDING` bytes past the input, so every parser gets the same
/// padded copy; the others see only `bytes`.
final class PaddedBuffer {
    let base: UnsafeMutableRawPointer
    /// Length of the JSON text.
    let count: Int
    /// Readable bytes from `base` (JSON text plus padding).
    let capacity: Int

    init(_ contents: [UInt8], padding: Int) {
        count = contents.count
        capacity = (contents.count + padding + 63) & ~63
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        base.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        contents.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    deinit { base.deallocate() }

    /// The JSON text, without padding.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    var charPointer: UnsafePointer<CChar> { UnsafePointer(base.assumingMemoryBound(to: CChar.self)) }
}

/// Hides the input from the optimiser, so that a loop that parses the same bytes again and
/// again cannot be hoisted or folded. Costs one call per iteration (about a nanosecond).
@_optimize(none)
func opaque(_ buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer { buffer }

/// Keeps a checksum alive so the loop producing it cannot be removed.
@_optimize(none)
func blackHole(_ value: Int) { _ = value }
