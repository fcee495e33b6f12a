/// Why an acknowledgement could not be encoded.
public enum AckEncodingError: Error, Sendable, Hashable {
    /// The ack would be `length` bytes, at or above `AckEncoder.maxFrameSize`. Slack closes
    /// the connection (1009) or drops such frames; send large responses through the Web
    /// API (`views.update`, `response_url`, `chat.postMessage`) instead.
    case tooLarge(length: Int)
    /// The buffer needs at least `required` bytes (headroom included).
    case bufferTooSmall(required: Int)
    /// The envelope id is empty or not valid UTF-8.
    case invalidEnvelopeID
    /// The response payload is not a single valid JSON object.
    case invalidPayload(ScanError)
}

/// Writes acknowledgements: `{"envelope_id":"…"}` or `{"envelope_id":"…","payload":{…}}`.
///
/// The frame is written after `headroom` bytes (libwebsockets needs `LWS_PRE` bytes in
/// front of every buffer it sends), so the transport can hand the buffer on without a copy.
/// The envelope id is taken decoded and escaped as JSON needs; the payload must be one
/// JSON object, validated by the same strict scanner as inbound frames and copied as is.
/// Thread-safe: no state.
public enum AckEncoder {
    /// Slack refuses client frames of this many bytes or more.
    public static let maxFrameSize = 20_480

    /// Encodes an ack into `buffer[headroom...]` and returns the frame's length.
    ///
    /// - Parameters:
    ///   - envelopeID: the decoded envelope id (UTF-8).
    ///   - payload: the response payload, raw JSON text of an object; `nil` or empty for none.
    ///   - buffer: where to write; must hold `headroom` plus the frame.
    ///   - headroom: bytes to leave free at the start of `buffer`.
    public static func encode(
        envelopeID: UnsafeRawBufferPointer,
        payload: UnsafeRawBufferPointer?,
        into buffer: UnsafeMutableRawBufferPointer,
        headroom: Int = 0
    ) throws(AckEncodingError) -> Int {
        let idLength = try escapedLength(of: envelopeID)
        let payloadValue = try validatedPayload(payload)
        let prefix: StaticString = "{\"envelope_id\":\""
        let middle: StaticString = "\",\"payload\":"
        let closing: StaticString = "\"}"
        var length = prefix.utf8CodeUnitCount + idLength
        if let payloadValue {
            length += middle.utf8CodeUnitCount + payloadValue.count + 1
        } else {
            length += closing.utf8CodeUnitCount
        }
        guard length < maxFrameSize else { throw .tooLarge(length: length) }
        guard headroom >= 0, buffer.count >= headroom + length else {
            throw .bufferTooSmall(required: max(0, headroom) + length)
        }
        var writer = ByteWriter(buffer: buffer, position: headroom)
        writer.append(prefix)
        if idLength == envelopeID.count {
            writer.append(envelopeID)  // nothing to escape (escapes only make it longer)
        } else {
            writer.appendEscaped(envelopeID)
        }
        if let payloadValue {
            writer.append(middle)
            writer.append(payloadValue)
            writer.append(0x7D)
        } else {
            writer.append(closing)
        }
        assert(writer.position == headroom + length)
        return length
    }

    /// The length of `id` once escaped; throws when it is empty or not UTF-8.
    static func escapedLength(of id: UnsafeRawBufferPointer) throws(AckEncodingError) -> Int {
        guard let base = id.baseAddress, id.count > 0 else { throw .invalidEnvelopeID }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        // Slack's ids are printable ASCII with nothing to escape: one quick pass for them.
        var plain = true
        for index in 0..<id.count {
            let byte = bytes[index]
            if byte < 0x20 || byte >= 0x80 || byte == 0x22 || byte == 0x5C {
                plain = false
                break
            }
        }
        if plain { return id.count }
        var cursor = JSONCursor(base: bytes, count: id.count, maxDepth: 1)
        var length = 0
        while cursor.index < id.count {
            let byte = bytes[cursor.index]
            if byte >= 0x80 {
                let start = cursor.index
                do { try cursor.scanUTF8Sequence(lead: byte) } catch { throw .invalidEnvelopeID }
                length += cursor.index - start
                continue
            }
            length += ByteWriter.escapedWidth(byte)
            cursor.index += 1
        }
        return length
    }

    /// The payload's bytes without surrounding whitespace, after checking that they are
    /// exactly one JSON object; `nil` when there is no payload.
    static func validatedPayload(_ payload: UnsafeRawBufferPointer?) throws(AckEncodingError) -> UnsafeRawBufferPointer? {
        guard let payload, let base = payload.baseAddress, payload.count > 0 else { return nil }
        var cursor = JSONCursor(
            base: base.assumingMemoryBound(to: UInt8.self), count: payload.count,
            maxDepth: ScanOptions.default.maxDepth)
        do throws(ScanError) {
            // The payload is validated at the depth it will have inside the ack (the ack
            // object is depth 1, the payload depth 2), so that every ack written here is
            // accepted by a scanner with the same depth limit.
            let start = try cursor.rootObjectOffset(outerDepth: 1)
            try cursor.skipObject(depth: 2)
            let end = cursor.index
            try cursor.expectEnd()
            return UnsafeRawBufferPointer(rebasing: payload[start..<end])
        } catch {
            throw .invalidPayload(error)
        }
    }
}

/// Appends bytes to a raw buffer whose capacity was checked beforehand.
struct ByteWriter {
    let buffer: UnsafeMutableRawBufferPointer
    var position: Int

    mutating func append(_ byte: UInt8) {
        buffer[position] = byte
        position += 1
    }

    mutating func append(_ text: StaticString) {
        append(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        UnsafeMutableRawBufferPointer(rebasing: buffer[position..<(position + bytes.count)]).copyMemory(from: bytes)
        position += bytes.count
    }

    /// Bytes `byte` (< 0x80) takes inside a JSON string.
    static func escapedWidth(_ byte: UInt8) -> Int {
        switch byte {
        case 0x22, 0x5C, 0x08, 0x0C, 0x0A, 0x0D, 0x09: 2
        case 0..<0x20: 6
        default: 1
        }
    }

    /// Appends validated UTF-8 `bytes` escaped for a JSON string.
    mutating func appendEscaped(_ bytes: UnsafeRawBufferPointer) {
        let hex: StaticString = "0123456789abcdef"
        for byte in bytes {
            switch byte {
            case 0x22, 0x5C: append(0x5C); append(byte)
            case 0x08: append(0x5C); append(0x62)
            case 0x0C: append(0x5C); append(0x66)
            case 0x0A: append(0x5C); append(0x6E)
            case 0x0D: append(0x5C); append(0x72)
            case 0x09: append(0x5C); append(0x74)
            case 0..<0x20:
                append("\\u00")
                append(hex.utf8Start[Int(byte >> 4)])
                append(hex.utf8Start[Int(byte & 0xF)])
            default: append(byte)
            }
        }
    }
}
