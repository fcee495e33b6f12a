/// A view of a range of bytes inside the frame that was scanned: no copy, no allocation.
///
/// A scanner returns views instead of values (the model is picohttpparser's pointers into
/// the caller's buffer). A view is only meaningful together with the buffer it was cut
/// from, and only while that buffer is alive and unchanged.
///
/// For a JSON string the view covers the characters between the quotes, still escaped;
/// `isEscaped` says whether it contains any backslash escape, so that hosts can use the raw
/// bytes directly when it does not (the common case). For a JSON value (the envelope's
/// `payload`) the view covers the whole value, from its first to its last byte.
public struct ByteView: Sendable, Hashable {
    @usableFromInline let rawOffset: UInt32
    @usableFromInline let rawLength: UInt32
    @usableFromInline let rawFlags: UInt8

    @usableFromInline static let presentFlag: UInt8 = 1
    @usableFromInline static let escapedFlag: UInt8 = 2

    /// The view of a field that was not in the frame.
    public static let absent = ByteView(rawOffset: 0, rawLength: 0, rawFlags: 0)

    @inlinable
    init(rawOffset: UInt32, rawLength: UInt32, rawFlags: UInt8) {
        self.rawOffset = rawOffset
        self.rawLength = rawLength
        self.rawFlags = rawFlags
    }

    /// A present view of `length` bytes at `offset`.
    @inlinable
    public init(offset: Int, length: Int, isEscaped: Bool = false) {
        precondition(offset >= 0 && length >= 0 && offset + length <= Int(UInt32.max), "view out of range")
        self.init(
            rawOffset: UInt32(truncatingIfNeeded: offset),
            rawLength: UInt32(truncatingIfNeeded: length),
            rawFlags: ByteView.presentFlag | (isEscaped ? ByteView.escapedFlag : 0)
        )
    }

    /// Byte offset of the first byte of the view in the scanned buffer.
    @inlinable public var offset: Int { Int(rawOffset) }
    /// Number of bytes in the view.
    @inlinable public var length: Int { Int(rawLength) }
    /// Whether the field was present in the frame (with the expected JSON type).
    @inlinable public var isPresent: Bool { rawFlags & ByteView.presentFlag != 0 }
    /// Whether the string contains backslash escapes that must be decoded before use.
    @inlinable public var isEscaped: Bool { rawFlags & ByteView.escapedFlag != 0 }
    /// One past the last byte of the view.
    @inlinable public var endOffset: Int { offset + length }

    /// The bytes of this view in `buffer`, the buffer it was scanned from.
    @inlinable
    public func bytes(in buffer: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        precondition(endOffset <= buffer.count, "view does not belong to this buffer")
        return UnsafeRawBufferPointer(rebasing: buffer[offset..<endOffset])
    }
}
