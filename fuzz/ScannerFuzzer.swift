// libFuzzer target for the envelope scanner, the ack scanner and the ack encoder.
//
// Built by fuzz/run.sh in one module with the SockeyeCore sources (no SwiftPM), under
// AddressSanitizer. Besides "never crash, never read out of bounds", it checks on every
// success that the results are usable: views lie inside the frame, string views decode
// into their own length as valid UTF-8, and what the encoder writes the ack scanner reads
// back unchanged. A broken invariant traps, which libFuzzer reports as a crash.

#if canImport(SockeyeCore)
    import SockeyeCore
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    checkEnvelope(input)
    checkAckScanner(input)
    checkEncoderWithID(input)
    checkEncoderWithPayload(input)
    checkDecoderOnAnyBytes(input)
    return 0
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// Decodes a present string view; it must fit in its own length and be valid UTF-8.
func decoded(_ view: ByteView, in buffer: UnsafeRawBufferPointer, _ name: String) -> [UInt8] {
    require(view.endOffset <= buffer.count, "\(name) view \(view.offset)+\(view.length) outside \(buffer.count) bytes")
    let raw = view.bytes(in: buffer)
    var output = [UInt8](repeating: 0, count: raw.count)
    let length = output.withUnsafeMutableBytes { JSONStringDecoder.decode(raw, into: $0) }
    guard let length else { fatalError("invariant broken: \(name) does not decode into its own length") }
    require(length <= raw.count, "\(name) decoded longer than its view")
    if !view.isEscaped {
        require(length == raw.count && output.elementsEqual(raw), "unescaped \(name) changed when decoded")
    }
    let bytes = Array(output[0..<length])
    require(String(validating: bytes, as: UTF8.self) != nil, "\(name) decodes to invalid UTF-8")
    return bytes
}

func checkError(_ error: ScanError, _ buffer: UnsafeRawBufferPointer) {
    require(error.offset >= 0 && error.offset <= buffer.count, "error offset \(error.offset) outside \(buffer.count) bytes")
    if error.kind == .unexpectedEnd {
        require(error.offset == buffer.count, "unexpected_end at \(error.offset), not at the end (\(buffer.count))")
    } else if error.kind != .frameTooLarge {
        require(error.offset < buffer.count, "\(error) points past the last byte")
    }
}

/// Offsets are exact: a frame whose root is a container or string, cut anywhere after its
/// first byte and no later than the reported offset (or the last non-blank byte, when there
/// is no syntax error), ran out of bytes and nothing else.
func checkPrefix(_ buffer: UnsafeRawBufferPointer, error: ScanError?) {
    let blank: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
    guard let first = buffer.firstIndex(where: { !blank.contains($0) }),
        [0x7B, 0x5B, 0x22].contains(buffer[first])
    else { return }
    let limit: Int
    if let error, error.kind.isSyntax || error.kind == .depthExceeded {
        guard error.kind != .unexpectedEnd else { return }
        if error.kind == .trailingData {
            // The root value ended at the last non-blank byte before the trailing data.
            guard let end = buffer[0..<error.offset].lastIndex(where: { !blank.contains($0) }) else { return }
            limit = end
        } else {
            limit = error.offset
        }
    } else {
        limit = buffer.lastIndex(where: { !blank.contains($0) })!
    }
    guard limit > first else { return }
    // One cut per input, chosen from its bytes so runs are reproducible.
    var hash = 0
    for b in buffer.prefix(64) { hash = hash &* 31 &+ Int(b) }
    let cut = first + 1 + Int(UInt(bitPattern: hash) % UInt(limit - first))
    let prefix = UnsafeRawBufferPointer(rebasing: buffer[0..<cut])
    do throws(ScanError) {
        _ = try EnvelopeScanner.scan(prefix)
        fatalError("invariant broken: prefix of \(cut) bytes accepted")
    } catch {
        require(error == ScanError(.unexpectedEnd, at: cut), "prefix of \(cut) bytes (limit \(limit)) gave \(error)")
    }
}

func checkEnvelope(_ buffer: UnsafeRawBufferPointer) {
    let envelope: Envelope
    do throws(ScanError) {
        envelope = try EnvelopeScanner.scan(buffer)
    } catch {
        checkError(error, buffer)
        checkPrefix(buffer, error: error)
        return
    }
    checkPrefix(buffer, error: nil)
    // A one-byte-smaller size limit refuses the frame before reading it.
    if buffer.count > 0 {
        do throws(ScanError) {
            _ = try EnvelopeScanner.scan(buffer, options: ScanOptions(maxFrameSize: buffer.count - 1, maxDepth: 128))
            fatalError("invariant broken: frame over maxFrameSize accepted")
        } catch {
            require(error.kind == .frameTooLarge, "over-size frame gave \(error)")
        }
    }
    let views: [(String, ByteView)] = [
        ("type", envelope.type), ("envelope_id", envelope.envelopeID), ("retry_reason", envelope.retryReason),
        ("event_id", envelope.eventID), ("team_id", envelope.teamID), ("payload_type", envelope.payloadType),
        ("event_type", envelope.eventType), ("reason", envelope.reason), ("app_id", envelope.appID),
        ("debug_host", envelope.debugHost),
    ]
    require(envelope.type.isPresent, "success without type")
    for (name, view) in views where view.isPresent { _ = decoded(view, in: buffer, name) }
    if envelope.kind != .unknown && envelope.kind.isEnvelope {
        require(envelope.envelopeID.isPresent, "envelope kind without envelope_id")
    }

    // The envelope id round-trips through an ack.
    var ackID: [UInt8] = Array("x".utf8)
    if envelope.envelopeID.isPresent {
        let id = decoded(envelope.envelopeID, in: buffer, "envelope_id")
        if !id.isEmpty && id.count < 4096 { ackID = id }
    }

    guard envelope.payload.isPresent else { return }
    require(envelope.payload.endOffset <= buffer.count, "payload view outside the frame")
    let payload = envelope.payload.bytes(in: buffer)
    require(payload.count > 0, "empty payload view")
    // The payload view re-scans as an ack payload: an object is accepted as is, anything else
    // refused as not an object.
    let isObject = payload[0] == 0x7B
    var frame = [UInt8](repeating: 0, count: 16 + ackID.count * 6 + payload.count + 64)
    let result: Result<Int, AckEncodingError> = frame.withUnsafeMutableBytes { out in
        ackID.withUnsafeBytes { id in
            do throws(AckEncodingError) {
                return .success(try AckEncoder.encode(envelopeID: id, payload: payload, into: out, headroom: 16))
            } catch {
                return .failure(error)
            }
        }
    }
    switch result {
    case .success(let length):
        require(isObject, "non-object payload accepted by the encoder")
        let ack = checkAckRoundTrip(Array(frame[16..<(16 + length)]), id: ackID)
        require(ack.elementsEqual(payload), "payload changed through the ack")
    case .failure(.tooLarge(let length)):
        require(isObject && length >= AckEncoder.maxFrameSize, "tooLarge(\(length)) for a payload that fits")
    case .failure(.invalidPayload(let error)):
        require(!isObject && error.kind == .notAnObject, "payload view refused by the encoder: \(error)")
    case .failure(let error):
        fatalError("invariant broken: encoder refused a scanned payload: \(error)")
    }
}

/// Scans an ack the encoder wrote; its envelope id must decode to `id`. Returns the payload bytes.
@discardableResult
func checkAckRoundTrip(_ frame: [UInt8], id: [UInt8]) -> [UInt8] {
    frame.withUnsafeBytes { buffer in
        let ack: AckFrame
        do throws(ScanError) {
            ack = try AckScanner.scan(buffer)
        } catch {
            fatalError("invariant broken: encoder output refused by AckScanner: \(error)")
        }
        require(decoded(ack.envelopeID, in: buffer, "ack envelope_id") == id, "envelope id changed through the ack")
        require(!ack.hadDuplicateKey, "encoder wrote a duplicate key")
        guard ack.payload.isPresent else { return [] }
        require(ack.payload.endOffset <= buffer.count, "ack payload view outside the frame")
        return Array(ack.payload.bytes(in: buffer))
    }
}

func checkAckScanner(_ buffer: UnsafeRawBufferPointer) {
    do throws(ScanError) {
        let ack = try AckScanner.scan(buffer)
        _ = decoded(ack.envelopeID, in: buffer, "ack envelope_id")
        if ack.payload.isPresent { require(ack.payload.endOffset <= buffer.count, "ack payload outside the frame") }
    } catch {
        checkError(error, buffer)
    }
}

/// The input as an envelope id: accepted exactly when it is non-empty UTF-8, and read back intact.
func checkEncoderWithID(_ input: UnsafeRawBufferPointer) {
    var frame = [UInt8](repeating: 0, count: input.count * 6 + 64)
    let result: Result<Int, AckEncodingError> = frame.withUnsafeMutableBytes { out in
        do throws(AckEncodingError) {
            return .success(try AckEncoder.encode(envelopeID: input, payload: nil, into: out, headroom: 7))
        } catch {
            return .failure(error)
        }
    }
    let valid = input.count > 0 && String(validating: input, as: UTF8.self) != nil
    switch result {
    case .success(let length):
        require(valid, "encoder accepted an invalid envelope id")
        require(length < AckEncoder.maxFrameSize, "encoder wrote \(length) bytes")
        checkAckRoundTrip(Array(frame[7..<(7 + length)]), id: Array(input))
    case .failure(.invalidEnvelopeID):
        require(!valid, "encoder refused a valid envelope id")
    case .failure(.tooLarge(let length)):
        require(valid && length >= AckEncoder.maxFrameSize, "tooLarge(\(length))")
    case .failure(let error):
        fatalError("invariant broken: unexpected \(error) for an id-only ack")
    }
}

/// The input as a response payload: accepted exactly when it is one object, copied as is.
func checkEncoderWithPayload(_ input: UnsafeRawBufferPointer) {
    let id = Array("env-1".utf8)
    var frame = [UInt8](repeating: 0, count: input.count + 64)
    let result: Result<Int, AckEncodingError> = frame.withUnsafeMutableBytes { out in
        id.withUnsafeBytes { idBytes in
            do throws(AckEncodingError) {
                return .success(try AckEncoder.encode(envelopeID: idBytes, payload: input, into: out))
            } catch {
                return .failure(error)
            }
        }
    }
    switch result {
    case .success(let length):
        let payload = checkAckRoundTrip(Array(frame[0..<length]), id: id)
        if input.count == 0 {
            require(payload.isEmpty, "empty payload written")
        } else {
            // The payload is the input without surrounding whitespace.
            let trimmed = Array(input).drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) }
            require(trimmed.starts(with: payload), "payload bytes changed")
            require(trimmed.dropFirst(payload.count).allSatisfy { [0x20, 0x09, 0x0A, 0x0D].contains($0) }, "payload truncated")
        }
    case .failure(.invalidPayload(let error)):
        checkError(error, input)
        // An object the envelope scanner accepts as a payload must not be refused.
        var wrapped = Array(#"{"type":"x","payload":"#.utf8)
        wrapped.append(contentsOf: input)
        wrapped.append(0x7D)
        let envelope = wrapped.withUnsafeBytes { try? EnvelopeScanner.scan($0) }
        let trimmed = Array(input).drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) }.reversed().drop { [0x20, 0x09, 0x0A, 0x0D].contains($0) }.reversed()
        if let envelope, envelope.payload.isPresent, wrapped[envelope.payload.offset] == 0x7B,
            Array(wrapped[envelope.payload.offset..<envelope.payload.endOffset]) == Array(trimmed)
        {
            // The whole input was the envelope's payload object: only its depth inside the ack may refuse it.
            require(error.kind == .depthExceeded, "object payload refused: \(error)")
        }
    case .failure(.tooLarge(let length)):
        require(length >= AckEncoder.maxFrameSize, "tooLarge(\(length))")
    case .failure(let error):
        fatalError("invariant broken: unexpected \(error) for a payload ack")
    }
}

/// The decoder on unvalidated bytes and too-small outputs: any result, but no crash and no
/// access outside either buffer (AddressSanitizer watches).
func checkDecoderOnAnyBytes(_ input: UnsafeRawBufferPointer) {
    for capacity in [0, 1, input.count / 2, input.count] {
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
        defer { output.deallocate() }
        if let length = JSONStringDecoder.decode(input, into: output) {
            require(length <= capacity, "decoder claims \(length) bytes in \(capacity)")
        }
    }
}
