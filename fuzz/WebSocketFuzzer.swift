// libFuzzer target for the WebSocket client codec: frame decoder, handshake checker, frame
// writer, UTF-8 validation.
//
// Built by fuzz/run.sh in one module with the SockeyeCore sources (no SwiftPM), under
// AddressSanitizer. The first input byte chooses the decoder's size limit and where the
// rest is split into two reads; the rest is server bytes. Besides "never crash, never read
// out of bounds", it checks that results do not depend on how the bytes were split, that
// views handed out lie wholly inside or wholly outside the caller's bytes, that delivered
// messages obey the rules the decoder enforces, and that what the writer produces decodes
// back to what was written. A broken invariant traps, which libFuzzer reports as a crash.

#if canImport(SockeyeCore)
    import SockeyeCore
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func LLVMFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : size)
    guard let control = input.first else { return 0 }
    let body = UnsafeRawBufferPointer(rebasing: input[1...])
    let limits = [0, 1, 125, 126, 1000, 65_536, 1 << 20, 16]
    let maxSize = limits[Int(control & 7)]
    let split = body.count * Int(control >> 3) / 31
    checkDecoder(body, maxSize: maxSize, split: split)
    checkHandshake(body, split: split)
    checkUTF8(body)
    checkRoundTrip(body, seed: control)
    return 0
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError("invariant broken: \(message())") }
}

/// A message copied out of its callback.
enum Copied: Equatable {
    case text([UInt8]), binary([UInt8]), ping([UInt8]), pong([UInt8]), close(UInt16?, [UInt8])
}

/// Decodes `chunks` in order; checks each message as it is delivered.
func decodeAll(_ chunks: [UnsafeRawBufferPointer], maxSize: Int) -> ([Copied], WebSocketProtocolError?, WebSocketFrameDecoder) {
    var decoder = WebSocketFrameDecoder(maxMessageSize: maxSize)
    var messages: [Copied] = []
    for chunk in chunks {
        do throws(WebSocketProtocolError) {
            try decoder.decode(chunk) { message in
                let view: UnsafeRawBufferPointer
                switch message {
                case .text(let v): view = v
                case .binary(let v): view = v
                case .ping(let v), .pong(let v): view = v
                case .close(_, let v): view = v
                }
                if let base = view.baseAddress, let start = chunk.baseAddress, view.count > 0 {
                    // A view is either inside this call's bytes or elsewhere (the decoder's
                    // own buffer), never straddling their edge.
                    let inside = base >= start && base + view.count <= start + chunk.count
                    let outside = base + view.count <= start || base >= start + chunk.count
                    require(inside || outside, "view straddles the input's edge")
                }
                let bytes = Array(view)  // AddressSanitizer checks every byte is readable
                switch message {
                case .text:
                    require(bytes.count <= maxSize, "text of \(bytes.count) over \(maxSize)")
                    require(String(validating: bytes, as: UTF8.self) != nil, "text message is not UTF-8")
                    messages.append(.text(bytes))
                case .binary:
                    require(bytes.count <= maxSize, "binary of \(bytes.count) over \(maxSize)")
                    messages.append(.binary(bytes))
                case .ping:
                    require(bytes.count <= 125, "ping over 125 bytes")
                    messages.append(.ping(bytes))
                case .pong:
                    require(bytes.count <= 125, "pong over 125 bytes")
                    messages.append(.pong(bytes))
                case .close(let code, _):
                    require(bytes.count <= 123, "close reason over 123 bytes")
                    require(code.map(WebSocketProtocolError.isSendableCloseCode) ?? bytes.isEmpty, "bad close code \(String(describing: code))")
                    require(String(validating: bytes, as: UTF8.self) != nil, "close reason is not UTF-8")
                    messages.append(.close(code, bytes))
                }
            }
        } catch {
            require(decoder.error == error, "error not remembered")
            return (messages, error, decoder)
        }
    }
    return (messages, nil, decoder)
}

func checkDecoder(_ body: UnsafeRawBufferPointer, maxSize: Int, split: Int) {
    let (whole, wholeError, finished) = decodeAll([body], maxSize: maxSize)
    let first = UnsafeRawBufferPointer(rebasing: body[..<split])
    let second = UnsafeRawBufferPointer(rebasing: body[split...])
    let (parts, partsError, _) = decodeAll([first, second], maxSize: maxSize)
    // Splitting can only matter at the end: a split stream sees the same messages and the
    // same error.
    require(whole == parts, "messages depend on the split at \(split)")
    require(wholeError == partsError, "error depends on the split: \(String(describing: wholeError)) vs \(String(describing: partsError))")
    if body.count <= 300 {
        let bytes = (0..<body.count).map { UnsafeRawBufferPointer(rebasing: body[$0..<($0 + 1)]) }
        let (single, singleError, _) = decodeAll(bytes, maxSize: maxSize)
        require(single == whole && singleError == wholeError, "byte-by-byte decoding differs")
    }
    if let wholeError {
        require([1002, 1007, 1009].contains(wholeError.closeCode), "close code \(wholeError.closeCode)")
        // A finished decoder keeps throwing the same error.
        var again = finished
        do throws(WebSocketProtocolError) {
            try again.decode(body) { _ in fatalError("invariant broken: message after an error") }
            fatalError("invariant broken: no error after an error")
        } catch {
            require(error == wholeError, "a different error after the first")
        }
    }
    if case .close = whole.last { require(finished.isClosed, "close delivered but decoder open") }
}

/// The body as a handshake answer, and behind a valid answer as frame bytes.
func checkHandshake(_ body: UnsafeRawBufferPointer, split: Int) {
    let key: [UInt8] = Array(0..<16)
    func run(_ chunks: [UnsafeRawBufferPointer]) -> Result<Int?, WebSocketHandshakeError> {
        var handshake = WebSocketHandshake(hostHeader: "h", target: "/", key: key)
        var consumed = 0
        for chunk in chunks {
            do throws(WebSocketHandshakeError) {
                if let used = try handshake.receive(chunk) {
                    require(used >= 0 && used <= chunk.count, "header length \(used) outside the chunk")
                    return .success(consumed + used)
                }
                consumed += chunk.count
            } catch {
                return .failure(error)
            }
        }
        return .success(nil)
    }
    let whole = run([body])
    let parts = run([UnsafeRawBufferPointer(rebasing: body[..<split]), UnsafeRawBufferPointer(rebasing: body[split...])])
    require(whole == parts, "handshake result depends on the split")
    if case .success(let length?) = whole {
        // Accepted: the header ends with an empty line.
        require(length >= 2 && body[length - 1] == 0x0A, "header does not end at a line feed")
    }

    // A valid answer followed by the body: the handshake takes exactly the answer, and the
    // decoder sees exactly the body.
    let accept = WebSocketHandshake(hostHeader: "h", target: "/", key: key).expectedAccept
    let answer = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n".utf8)
    let stream = answer + Array(body)
    stream.withUnsafeBytes { bytes in
        let result = run([bytes])
        require(result == .success(answer.count), "valid answer gave \(result)")
    }
}

func checkUTF8(_ body: UnsafeRawBufferPointer) {
    let valid = String(validating: body, as: UTF8.self) != nil
    let prefix = WebSocketUTF8.validPrefixLength(body)
    require((prefix == body.count) == valid, "UTF-8 verdict differs from the standard library")
    if let prefix {
        require(body.count - prefix <= 3, "unfinished tail of \(body.count - prefix) bytes")
        require(String(validating: UnsafeRawBufferPointer(rebasing: body[..<prefix]), as: UTF8.self) != nil, "valid prefix is not valid")
    }
}

/// Client frames turned into the server frames a decoder takes: mask bit cleared, payload
/// unmasked. Independent of the codec's own masking code.
func unmaskClientFrames(_ bytes: [UInt8]) -> [UInt8] {
    var output: [UInt8] = []
    var i = 0
    while i < bytes.count {
        require(bytes.count - i >= 2 && bytes[i + 1] & 0x80 != 0, "client frame not masked")
        var length = Int(bytes[i + 1] & 0x7F)
        var header = 2
        if length == 126 {
            length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            header = 4
            require(length > 125, "16-bit length for \(length) bytes")
        } else if length == 127 {
            length = (0..<8).reduce(0) { $0 << 8 | Int(bytes[i + 2 + $1]) }
            header = 10
            require(length > 0xFFFF, "64-bit length for \(length) bytes")
        }
        output.append(bytes[i])
        output.append(bytes[i + 1] & 0x7F)
        output += bytes[(i + 2)..<(i + header)]
        let key = Array(bytes[(i + header)..<(i + header + 4)])
        let start = i + header + 4
        require(bytes.count >= start + length, "client frame truncated")
        for k in 0..<length { output.append(bytes[start + k] ^ key[k % 4]) }
        i = start + length
    }
    return output
}

/// The body cut into messages written by the writer; they must decode back unchanged.
func checkRoundTrip(_ body: UnsafeRawBufferPointer, seed: UInt8) {
    var rng = SplitMix64(seed: UInt64(seed) &* 0x1234_5678_9ABC_DEF1 &+ UInt64(body.count))
    var writer = WebSocketFrameWriter(initialCapacity: Int(seed) % 3 == 0 ? 0 : 256)
    var expected: [Copied] = []
    var offset = 0
    var kind = Int(seed)
    while offset < body.count {
        let length = min(body.count - offset, Int(body[offset]) * (kind % 4 == 0 ? 300 : 1))
        let piece = UnsafeRawBufferPointer(rebasing: body[offset..<(offset + length)])
        let bytes = Array(piece)
        switch kind % 4 {
        case 0:
            writer.appendBinary(piece, using: &rng)
            expected.append(.binary(bytes))
        case 1:
            if String(validating: bytes, as: UTF8.self) != nil {
                writer.appendText(piece, using: &rng)
                expected.append(.text(bytes))
            }
        case 2:
            do throws(WebSocketWriteError) {
                try writer.appendPing(piece, using: &rng)
                expected.append(.ping(bytes))
            } catch {
                require(bytes.count > 125, "ping of \(bytes.count) refused")
            }
        default:
            if let id = String(validating: bytes, as: UTF8.self), !id.isEmpty {
                let ack = AckMessage(envelopeID: EnvelopeID(id), payload: nil)
                var frame = [UInt8](repeating: 0, count: bytes.count * 6 + 64)
                let encoded = frame.withUnsafeMutableBytes { try? ack.encode(into: $0, headroom: 0) }
                do throws(AckEncodingError) {
                    try writer.appendAck(ack, using: &rng)
                    require(encoded != nil, "writer took an ack the encoder refuses")
                    expected.append(.text(Array(frame[..<encoded!])))
                } catch {
                    require(encoded == nil, "writer refused an ack the encoder takes")
                }
            }
        }
        offset += max(length, 1)
        kind &+= Int(body[offset - 1])
    }
    // Partial writes: drop a piece from the front, then check the rest is untouched.
    let all = writer.withUnsafeBytes { Array($0) }
    let cut = all.isEmpty ? 0 : Int(seed) % (all.count + 1)
    writer.removeFirst(cut)
    require(writer.withUnsafeBytes { Array($0) } == Array(all[cut...]), "removeFirst changed the remaining bytes")

    let server = unmaskClientFrames(all)
    let decoded = server.withUnsafeBytes { decodeAll([$0], maxSize: 1 << 20) }
    require(decoded.1 == nil, "writer output refused: \(String(describing: decoded.1))")
    require(decoded.0 == expected, "round trip changed the messages")
}
