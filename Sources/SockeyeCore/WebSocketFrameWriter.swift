/// Why a frame could not be written.
public enum WebSocketWriteError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A ping or pong payload over 125 bytes (RFC 6455 §5.5); `length` is its size.
    case controlPayloadTooLong(length: Int)
    /// A close code no endpoint may send (below 1000, 1004, 1006, 1015, 1016–2999, 5000
    /// and above). 1005 is accepted and means "no code": the close frame is empty.
    case invalidCloseCode(UInt16)

    /// For logs.
    public var description: String {
        switch self {
        case .controlPayloadTooLong(let length): "control frame payload of \(length) bytes (limit 125)"
        case .invalidCloseCode(let code): "close code \(code) must not be sent"
        }
    }
}

/// Appends masked client frames (RFC 6455 §5.2–§5.3) to one output buffer, so that one
/// socket write carries many frames: acks are coalesced this way.
///
/// The transport writes `withUnsafeBytes`'s bytes when the socket is writable, then drops
/// what was written with `removeFirst(_:)` (partial writes happen) or `removeAll()`. The
/// buffer keeps its capacity, so a steady stream of frames allocates nothing.
///
/// Every frame gets a fresh 32-bit mask key from the caller's generator: RFC 6455 §10.3
/// wants keys an attacker cannot predict, so pass `SystemRandomNumberGenerator` or a
/// generator seeded from it, never a fixed sequence outside tests.
public struct WebSocketFrameWriter {
    private var buffer: WebSocketByteBuffer

    /// A writer whose buffer starts with room for `initialCapacity` bytes.
    public init(initialCapacity: Int = 64 * 1024) {
        buffer = WebSocketByteBuffer(capacity: max(0, initialCapacity))
    }

    /// Bytes written and not yet removed.
    public var count: Int { buffer.count }

    /// Whether nothing is pending.
    public var isEmpty: Bool { buffer.isEmpty }

    /// Calls `body` with the pending bytes; the view is valid only inside `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try buffer.withUnsafeBytes(body)
    }

    /// Drops the first `count` pending bytes (the ones the socket took); all of them when
    /// `count` is at least `self.count`, none when it is not positive.
    public mutating func removeFirst(_ count: Int) {
        buffer.removeFirst(count)
    }

    /// Drops every pending byte.
    public mutating func removeAll() {
        buffer.removeAll()
    }

    /// Appends one text frame (FIN set) carrying `payload`, which should be UTF-8.
    public mutating func appendText(_ payload: UnsafeRawBufferPointer, using rng: inout some RandomNumberGenerator) {
        appendFrame(opcode: 0x1, payload, using: &rng)
    }

    /// Appends one binary frame (FIN set) carrying `payload`.
    public mutating func appendBinary(_ payload: UnsafeRawBufferPointer, using rng: inout some RandomNumberGenerator) {
        appendFrame(opcode: 0x2, payload, using: &rng)
    }

    /// Appends a ping; throws (and appends nothing) when `payload` is over 125 bytes.
    public mutating func appendPing(_ payload: UnsafeRawBufferPointer, using rng: inout some RandomNumberGenerator) throws(WebSocketWriteError) {
        guard payload.count <= 125 else { throw .controlPayloadTooLong(length: payload.count) }
        appendFrame(opcode: 0x9, payload, using: &rng)
    }

    /// Appends a pong; answer a ping with its own payload (RFC 6455 §5.5.3). Throws (and
    /// appends nothing) when `payload` is over 125 bytes.
    public mutating func appendPong(_ payload: UnsafeRawBufferPointer, using rng: inout some RandomNumberGenerator) throws(WebSocketWriteError) {
        guard payload.count <= 125 else { throw .controlPayloadTooLong(length: payload.count) }
        appendFrame(opcode: 0xA, payload, using: &rng)
    }

    /// Appends a close frame with `code` and `reason`. The reason is cut to the 123 bytes a
    /// control frame has room for, at a character boundary (it is only for logs). Code 1005
    /// ("no status code") writes an empty close frame, the wire form of that meaning, so a
    /// client can echo a server's empty close. Other codes that must not be sent throw.
    public mutating func appendClose(code: UInt16, reason: String, using rng: inout some RandomNumberGenerator) throws(WebSocketWriteError) {
        if code == 1005 {
            appendFrame(opcode: 0x8, UnsafeRawBufferPointer(start: nil, count: 0), using: &rng)
            return
        }
        guard WebSocketProtocolError.isSendableCloseCode(code) else { throw .invalidCloseCode(code) }
        var payload: [UInt8] = [UInt8(code >> 8), UInt8(code & 0xFF)]
        payload.reserveCapacity(125)
        for scalar in reason.unicodeScalars {
            let width = scalar.utf8.count
            if payload.count + width > 125 { break }
            payload.append(contentsOf: scalar.utf8)
        }
        payload.withUnsafeBytes { appendFrame(opcode: 0x8, $0, using: &rng) }
    }

    /// Encodes `ack` (see `AckEncoder`) straight into the buffer as one masked text frame,
    /// with no temporary copy. On error (invalid payload, or an ack of 20 480 bytes or more)
    /// nothing is appended.
    public mutating func appendAck(_ ack: AckMessage, using rng: inout some RandomNumberGenerator) throws(AckEncodingError) {
        // Every ack is under 20 480 bytes, so a 16-bit length always fits: encode after an
        // 8-byte slot (2 header bytes, 2 length bytes, 4 mask bytes), then close the gap
        // for the common short ack whose length fits in the first header byte.
        let slot = 8
        let space = buffer.reserveForWriting(slot + AckEncoder.maxFrameSize)
        let length = try ack.encode(into: UnsafeMutableRawBufferPointer(start: space, count: slot + AckEncoder.maxFrameSize), headroom: slot)
        let headerLength: Int
        if length <= 125 {
            headerLength = 6
            // Overlapping regions: `copyMemory` is a memmove. Both lie in the reserved space.
            (space + headerLength).copyMemory(from: space + slot, byteCount: length)
            space.storeBytes(of: 0x80 | UInt8(length), toByteOffset: 1, as: UInt8.self)
        } else {
            headerLength = 8
            space.storeBytes(of: 0x80 | 126, toByteOffset: 1, as: UInt8.self)
            space.storeBytes(of: UInt8(length >> 8), toByteOffset: 2, as: UInt8.self)
            space.storeBytes(of: UInt8(length & 0xFF), toByteOffset: 3, as: UInt8.self)
        }
        space.storeBytes(of: 0x81, as: UInt8.self)
        let key = Self.maskKey(&rng)
        Self.store(key, at: space + headerLength - 4)
        WebSocketMasking.apply(key: key, to: UnsafeMutableRawBufferPointer(start: space + headerLength, count: length))
        buffer.commit(headerLength + length)
    }

    /// Appends one unfragmented frame with the minimal length encoding (RFC 6455 §5.2).
    private mutating func appendFrame(opcode: UInt8, _ payload: UnsafeRawBufferPointer, using rng: inout some RandomNumberGenerator) {
        let count = payload.count
        let lengthBytes = count <= 125 ? 0 : count <= 0xFFFF ? 2 : 8
        let headerLength = 2 + lengthBytes + 4
        let space = buffer.reserveForWriting(headerLength + count)
        // Safe: `space` has room for headerLength + count bytes (reserved above).
        space.storeBytes(of: 0x80 | opcode, as: UInt8.self)
        switch lengthBytes {
        case 0:
            space.storeBytes(of: 0x80 | UInt8(count), toByteOffset: 1, as: UInt8.self)
        case 2:
            space.storeBytes(of: 0x80 | 126, toByteOffset: 1, as: UInt8.self)
            space.storeBytes(of: UInt8(count >> 8), toByteOffset: 2, as: UInt8.self)
            space.storeBytes(of: UInt8(count & 0xFF), toByteOffset: 3, as: UInt8.self)
        default:
            space.storeBytes(of: 0x80 | 127, toByteOffset: 1, as: UInt8.self)
            let length = UInt64(count)
            for i in 0..<8 {
                space.storeBytes(of: UInt8(truncatingIfNeeded: length >> (56 - 8 * UInt64(i))), toByteOffset: 2 + i, as: UInt8.self)
            }
        }
        let key = Self.maskKey(&rng)
        Self.store(key, at: space + headerLength - 4)
        if let source = payload.baseAddress, count > 0 {
            (space + headerLength).copyMemory(from: source, byteCount: count)
            WebSocketMasking.apply(key: key, to: UnsafeMutableRawBufferPointer(start: space + headerLength, count: count))
        }
        buffer.commit(headerLength + count)
    }

    /// Four fresh key bytes from `rng`.
    private static func maskKey(_ rng: inout some RandomNumberGenerator) -> (UInt8, UInt8, UInt8, UInt8) {
        let bits = rng.next()
        return (UInt8(truncatingIfNeeded: bits), UInt8(truncatingIfNeeded: bits >> 8),
                UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 24))
    }

    private static func store(_ key: (UInt8, UInt8, UInt8, UInt8), at pointer: UnsafeMutableRawPointer) {
        pointer.storeBytes(of: key.0, as: UInt8.self)
        pointer.storeBytes(of: key.1, toByteOffset: 1, as: UInt8.self)
        pointer.storeBytes(of: key.2, toByteOffset: 2, as: UInt8.self)
        pointer.storeBytes(of: key.3, toByteOffset: 3, as: UInt8.self)
    }
}
