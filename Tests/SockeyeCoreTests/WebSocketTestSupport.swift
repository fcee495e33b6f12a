import SockeyeCore
import Testing

/// A decoded message with its bytes copied out of the callback (views die with it).
enum Decoded: Equatable, CustomStringConvertible {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(UInt16?, [UInt8])

    init(_ message: WebSocketMessage) {
        switch message {
        case .text(let bytes): self = .text(Array(bytes))
        case .binary(let bytes): self = .binary(Array(bytes))
        case .ping(let bytes): self = .ping(Array(bytes))
        case .pong(let bytes): self = .pong(Array(bytes))
        case .close(let code, let reason): self = .close(code, Array(reason))
        }
    }

    static func text(_ string: String) -> Decoded { .text(Array(string.utf8)) }

    var description: String {
        switch self {
        case .text(let b): "text(\(b.count): \(String(decoding: b.prefix(40), as: UTF8.self)))"
        case .binary(let b): "binary(\(b.count))"
        case .ping(let b): "ping(\(b))"
        case .pong(let b): "pong(\(b))"
        case .close(let code, let reason): "close(\(code.map(String.init) ?? "nil"), \(String(decoding: reason, as: UTF8.self)))"
        }
    }
}

/// How a test frame writes its payload length.
enum LengthForm {
    case minimal
    case sixteen
    case sixtyFour
}

/// A frame as a server would send it (unmasked unless `mask` is given). Written
/// independently of the codec so tests do not check the codec against itself.
func serverFrame(
    _ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0,
    mask: [UInt8]? = nil, length: LengthForm = .minimal
) -> [UInt8] {
    var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv << 4 | opcode]
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    let count = payload.count
    let form: LengthForm = length == .minimal ? (count <= 125 ? .minimal : count <= 0xFFFF ? .sixteen : .sixtyFour) : length
    switch form {
    case .minimal:
        frame.append(maskBit | UInt8(count))
    case .sixteen:
        frame += [maskBit | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
    case .sixtyFour:
        frame.append(maskBit | 127)
        for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift))) }
    }
    if let mask {
        frame += mask
        frame += payload.enumerated().map { $0.element ^ mask[$0.offset % 4] }
    } else {
        frame += payload
    }
    return frame
}

func serverFrame(_ opcode: UInt8, _ text: String, fin: Bool = true) -> [UInt8] {
    serverFrame(opcode, Array(text.utf8), fin: fin)
}

/// A close frame payload: the code big-endian, then the reason.
func closePayload(_ code: UInt16, _ reason: String = "") -> [UInt8] {
    [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8)
}

/// Feeds `chunks` in order to `decoder`, collecting messages until the first error.
func feedDecoder(_ chunks: [[UInt8]], to decoder: inout WebSocketFrameDecoder) -> (messages: [Decoded], error: WebSocketProtocolError?) {
    var messages: [Decoded] = []
    for chunk in chunks {
        let result = chunk.withUnsafeBytes { bytes in
            Result { () throws(WebSocketProtocolError) in try decoder.decode(bytes) { messages.append(Decoded($0)) } }
        }
        if case .failure(let error) = result { return (messages, error) }
    }
    return (messages, nil)
}

/// Decodes `chunks` with a fresh decoder.
func decodeChunks(_ chunks: [[UInt8]], maxMessageSize: Int = 1 << 20) -> (messages: [Decoded], error: WebSocketProtocolError?) {
    var decoder = WebSocketFrameDecoder(maxMessageSize: maxMessageSize)
    return feedDecoder(chunks, to: &decoder)
}

/// The rule `bytes` breaks, fed in one piece and then one byte at a time (both must agree).
func brokenRule(_ bytes: [UInt8], maxMessageSize: Int = 1 << 20) -> WebSocketProtocolError? {
    let whole = decodeChunks([bytes], maxMessageSize: maxMessageSize).error
    let bytewise = decodeChunks(bytes.map { [$0] }, maxMessageSize: maxMessageSize).error
    #expect(whole == bytewise, "fed whole: \(String(describing: whole)), byte by byte: \(String(describing: bytewise))")
    return whole
}

/// One frame a client wrote, unmasked.
struct ClientFrame: Equatable {
    var fin: Bool
    var opcode: UInt8
    var maskKey: [UInt8]
    var payload: [UInt8]
    /// Whether the length used the shortest encoding (RFC 6455 §5.2 requires it of senders).
    var minimalLength: Bool
}

/// Parses client frames back to back; records an issue and stops at anything malformed
/// (unmasked, RSV set, truncated).
func parseClientFrames(_ bytes: [UInt8]) -> [ClientFrame] {
    var frames: [ClientFrame] = []
    var i = 0
    while i < bytes.count {
        guard bytes.count - i >= 2 else { Issue.record("truncated header at \(i)"); break }
        let b0 = bytes[i], b1 = bytes[i + 1]
        guard b0 & 0x70 == 0 else { Issue.record("RSV set at \(i)"); break }
        guard b1 & 0x80 != 0 else { Issue.record("unmasked client frame at \(i)"); break }
        var length = Int(b1 & 0x7F)
        var header = 2
        var minimal = true
        if length == 126 {
            length = Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
            header = 4
            minimal = length > 125
        } else if length == 127 {
            length = 0
            for k in 0..<8 { length = length << 8 | Int(bytes[i + 2 + k]) }
            header = 10
            minimal = length > 0xFFFF
        }
        let key = Array(bytes[(i + header)..<(i + header + 4)])
        let start = i + header + 4
        guard bytes.count >= start + length else { Issue.record("truncated payload at \(i)"); break }
        let payload = bytes[start..<(start + length)].enumerated().map { $0.element ^ key[$0.offset % 4] }
        frames.append(ClientFrame(fin: b0 & 0x80 != 0, opcode: b0 & 0x0F, maskKey: key, payload: payload, minimalLength: minimal))
        i = start + length
    }
    return frames
}

/// Bytes of a repeating pattern, distinct enough to catch misplaced slices.
func patternBytes(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ Int(seed)) }
}

/// ASCII text of `count` bytes.
func asciiText(_ count: Int) -> [UInt8] {
    (0..<count).map { UInt8(0x61 + $0 % 26) }
}
