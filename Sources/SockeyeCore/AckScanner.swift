/// An acknowledgement as a Socket Mode server receives it, as views into the frame.
public struct AckFrame: Sendable, Hashable {
    /// `envelope_id`: which envelope this acknowledges.
    public var envelopeID: ByteView = .absent
    /// `payload`: the whole JSON value, when present.
    public var payload: ByteView = .absent
    /// A recognised member appeared more than once; the last won.
    public var hadDuplicateKey = false

    @inlinable public init() {}
}

/// Scans an acknowledgement frame (`{"envelope_id":"…","payload":{…}}`): strict JSON,
/// one pass, no allocation. Used by the simulator and by tests; the client side never
/// receives acks. Unknown members are validated and skipped; the last duplicate wins.
public enum AckScanner {
    /// Scans `buffer`. Throws `.missingEnvelopeID` when the object has no `envelope_id`
    /// and `.fieldType` when it is not a string.
    @inlinable
    public static func scan(_ buffer: UnsafeRawBufferPointer, options: ScanOptions = .default) throws(ScanError) -> AckFrame {
        var cursor = try JSONCursor(frame: buffer, options: options)
        let rootOffset = try cursor.rootObjectOffset()
        var ack = AckFrame()
        var idWrongAt: Int? = nil
        var seenID = false
        var seenPayload = false
        try cursor.scanMembers(depth: 1) { (cursor: inout JSONCursor, key: ByteView) throws(ScanError) in
            let isID = KeyMatching.withName(key, base: cursor.base) { KeyMatching.equals($0, "envelope_id") }
            let isPayload = !isID && KeyMatching.withName(key, base: cursor.base) { KeyMatching.equals($0, "payload") }
            cursor.skipWhitespace()
            let valueOffset = cursor.index
            if isID {
                if seenID { ack.hadDuplicateKey = true }
                seenID = true
                if try cursor.peek() == 0x22 {
                    ack.envelopeID = try cursor.scanString()
                    idWrongAt = nil
                } else {
                    try cursor.skipValue(depth: 1)
                    ack.envelopeID = .absent
                    idWrongAt = valueOffset
                }
            } else if isPayload {
                if seenPayload { ack.hadDuplicateKey = true }
                seenPayload = true
                try cursor.skipValue(depth: 1)
                ack.payload = ByteView(offset: valueOffset, length: cursor.index - valueOffset)
            } else {
                try cursor.skipValue(depth: 1)
            }
        }
        try cursor.expectEnd()
        if let idWrongAt { throw ScanError(.fieldType, at: idWrongAt) }
        guard ack.envelopeID.isPresent else { throw ScanError(.missingEnvelopeID, at: rootOffset) }
        return ack
    }
}
