/// A decoded envelope id, kept without a heap allocation when it fits in 47 bytes.
///
/// Slack's envelope ids are 36-character UUIDs; the core keeps one per outstanding ack,
/// so storing them inline keeps the receive path free of allocations. Longer ids (legal,
/// never seen) fall back to an array.
public struct EnvelopeID: Sendable, Hashable, CustomStringConvertible {
    private var words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0)
    private var inlineCount: UInt8 = 0
    private var overflow: [UInt8]? = nil

    /// Capacity of the inline storage.
    public static let inlineCapacity = 47

    /// The id whose decoded UTF-8 bytes are `bytes`.
    public init(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count <= EnvelopeID.inlineCapacity {
            withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: bytes) }
            inlineCount = UInt8(bytes.count)
        } else {
            overflow = Array(bytes)
        }
    }

    /// The id of a scanned envelope: `view` of `frame`, decoded if it has escapes.
    public init(view: ByteView, in frame: UnsafeRawBufferPointer) {
        let raw = view.bytes(in: frame)
        guard view.isEscaped else {
            self.init(raw)
            return
        }
        var decoded = [UInt8](repeating: 0, count: raw.count)
        let length = decoded.withUnsafeMutableBytes { JSONStringDecoder.decode(raw, into: $0) } ?? 0
        self = decoded.withUnsafeBytes { EnvelopeID(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
    }

    /// The id from a Swift string.
    public init(_ string: String) {
        var copy = string
        self = copy.withUTF8 { EnvelopeID(UnsafeRawBufferPointer($0)) }
    }

    /// Number of bytes.
    public var count: Int { overflow?.count ?? Int(inlineCount) }

    /// Calls `body` with the id's UTF-8 bytes.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if let overflow { return try overflow.withUnsafeBytes(body) }
        var copy = words
        let count = Int(inlineCount)
        return try Swift.withUnsafeBytes(of: &copy) { try body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    public static func == (a: EnvelopeID, b: EnvelopeID) -> Bool {
        a.inlineCount == b.inlineCount && a.overflow == b.overflow && a.words.0 == b.words.0
            && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
            && a.words.4 == b.words.4 && a.words.5 == b.words.5
    }

    public func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
}
