import SockeyeCore
import Testing

/// A scanned frame: the bytes and what the scanner made of them.
struct Scanned {
    let bytes: [UInt8]
    let envelope: Envelope

    /// The decoded string of `view`, or nil when absent.
    func string(_ view: ByteView) -> String? {
        bytes.withUnsafeBytes { JSONStringDecoder.string(view, in: $0) }
    }

    /// The raw (still escaped) bytes of `view` as text.
    func raw(_ view: ByteView) -> String {
        String(decoding: bytes[view.offset..<view.endOffset], as: UTF8.self)
    }
}

/// Scans `bytes` as an envelope.
func scan(_ bytes: [UInt8], options: ScanOptions = .default) throws(ScanError) -> Scanned {
    let result: Result<Envelope, ScanError> = bytes.withUnsafeBytes { buffer in
        do throws(ScanError) {
            return .success(try EnvelopeScanner.scan(buffer, options: options))
        } catch {
            return .failure(error)
        }
    }
    return Scanned(bytes: bytes, envelope: try result.get())
}

func scan(_ text: String, options: ScanOptions = .default) throws(ScanError) -> Scanned {
    try scan(Array(text.utf8), options: options)
}

/// The error scanning `bytes` throws, or nil when it succeeds.
func scanError(_ bytes: [UInt8], options: ScanOptions = .default) -> ScanError? {
    do throws(ScanError) {
        _ = try scan(bytes, options: options)
        return nil
    } catch {
        return error
    }
}

func scanError(_ text: String, options: ScanOptions = .default) -> ScanError? {
    scanError(Array(text.utf8), options: options)
}

/// The byte offset of the first occurrence of `needle` in `text` (test inputs are ASCII
/// around the spots they point at).
func offset(of needle: String, in text: String) -> Int {
    let haystack = Array(text.utf8)
    let pattern = Array(needle.utf8)
    for i in 0...(haystack.count - pattern.count) where Array(haystack[i..<(i + pattern.count)]) == pattern {
        return i
    }
    preconditionFailure("\(needle) not in \(text)")
}

/// Encodes an ack; the frame bytes (after the headroom) or the error.
func encodeAck(
    id: [UInt8], payload: [UInt8]?, capacity: Int = 65_536, headroom: Int = 0
) -> Result<[UInt8], AckEncodingError> {
    var buffer = [UInt8](repeating: 0xEE, count: capacity)
    return buffer.withUnsafeMutableBytes { out in
        id.withUnsafeBytes { idBytes in
            let attempt = { (p: UnsafeRawBufferPointer?) -> Result<[UInt8], AckEncodingError> in
                do throws(AckEncodingError) {
                    let length = try AckEncoder.encode(envelopeID: idBytes, payload: p, into: out, headroom: headroom)
                    return .success(Array(out[headroom..<(headroom + length)]))
                } catch {
                    return .failure(error)
                }
            }
            guard let payload else { return attempt(nil) }
            return payload.withUnsafeBytes { attempt($0) }
        }
    }
}

func encodeAck(id: String, payload: String? = nil, capacity: Int = 65_536, headroom: Int = 0) -> Result<[UInt8], AckEncodingError> {
    encodeAck(id: Array(id.utf8), payload: payload.map { Array($0.utf8) }, capacity: capacity, headroom: headroom)
}

/// Scans an ack frame.
func scanAck(_ bytes: [UInt8]) -> Result<AckFrame, ScanError> {
    bytes.withUnsafeBytes { buffer in
        do throws(ScanError) {
            return .success(try AckScanner.scan(buffer))
        } catch {
            return .failure(error)
        }
    }
}

/// `count` nested containers around `inner`.
func nested(_ count: Int, _ inner: String = "0") -> String {
    String(repeating: "[", count: count) + inner + String(repeating: "]", count: count)
}

/// The error encoding an ack throws, or nil when it succeeds.
func encodeError(id: [UInt8], payload: [UInt8]?, capacity: Int = 65_536, headroom: Int = 0) -> AckEncodingError? {
    if case .failure(let error) = encodeAck(id: id, payload: payload, capacity: capacity, headroom: headroom) { return error }
    return nil
}

func encodeError(id: String, payload: String? = nil, capacity: Int = 65_536, headroom: Int = 0) -> AckEncodingError? {
    encodeError(id: Array(id.utf8), payload: payload.map { Array($0.utf8) }, capacity: capacity, headroom: headroom)
}
