/// A message or control frame decoded from the server's bytes.
///
/// The buffers are views valid ONLY during the callback that receives them: they point
/// into the bytes passed to `WebSocketFrameDecoder.decode` or into the decoder's own
/// reassembly buffer, both of which change once the callback returns.
public enum WebSocketMessage {
    /// A complete text message (fragments reassembled), checked to be valid UTF-8 (unless
    /// the decoder leaves unfragmented frames to the caller: `checksUnfragmentedText`).
    case text(UnsafeRawBufferPointer)
    /// A complete binary message (fragments reassembled).
    case binary(UnsafeRawBufferPointer)
    /// A ping: answer with a pong carrying the same bytes.
    case ping(UnsafeRawBufferPointer)
    /// A pong (an answer to our ping, or unsolicited).
    case pong(UnsafeRawBufferPointer)
    /// The server's close frame: `code` is nil when the payload was empty; `reason` is valid
    /// UTF-8 (possibly empty). Echo the code in the client's close frame.
    case close(code: UInt16?, reason: UnsafeRawBufferPointer)
}

/// Decodes the server's WebSocket frames (RFC 6455 §5) from whatever bytes each read returned.
///
/// Sans-IO: the transport feeds bytes in, messages come out through a callback. A frame that
/// lies whole inside the bytes of one call and is not a fragment is handed out as a view
/// into those bytes, with no copy; frames split across reads and fragmented messages are
/// assembled in buffers that are reused, so a steady stream allocates nothing per message.
///
/// Every rule a server must follow is checked, each with the close code the client should
/// send (`WebSocketProtocolError`). An oversize message is refused as soon as its header is
/// read, before any of its payload is buffered. Text is checked as UTF-8 fragment by
/// fragment. After an error the decoder is finished and every later call throws the same
/// error; after a close frame it is finished too and ignores further bytes.
public struct WebSocketFrameDecoder {
    /// The largest message (all fragments together) accepted; larger ones fail with 1009.
    public let maxMessageSize: Int

    private enum State {
        case open
        case closed
        case failed(WebSocketProtocolError)
    }

    /// A frame header, checked against every rule that does not need the payload.
    private struct FrameHeader {
        var fin: Bool
        var opcode: UInt8
        var headerLength: Int
        var payloadLength: Int
    }

    private enum HeaderParse {
        case incomplete
        case header(FrameHeader)
        case broken(WebSocketProtocolError.Rule)
    }

    private var state = State.open
    /// The start of a frame header that arrived without the rest of it (at most 10 bytes).
    private var headerBytes = WebSocketByteBuffer(capacity: 16)
    /// The frame whose payload is arriving over several reads, and how much of it is missing.
    private var current: FrameHeader?
    private var remaining = 0
    /// The payload of a control frame split across reads (at most 125 bytes).
    private var control = WebSocketByteBuffer(capacity: 128)
    /// The data bytes of the message being assembled (fragments, or one frame split across
    /// reads). Reused from message to message.
    private var message = WebSocketByteBuffer()
    /// The opcode of the message in progress (1 text, 2 binary), 0 when none is.
    private var messageOpcode: UInt8 = 0
    /// How many bytes of `message` are known to be whole, valid UTF-8.
    private var utf8Checked = 0

    /// Whether an unfragmented text frame is checked as UTF-8 before it is delivered (the
    /// default). A caller that parses every text message with a strict parser that rejects
    /// bad UTF-8 anyway (the envelope scanner does) may turn this off to avoid reading each
    /// message twice; it must then check `WebSocketUTF8.isValid` itself whenever its parser
    /// refuses a message, and fail the connection with 1007 if the text is not UTF-8.
    /// Fragmented messages are always checked fragment by fragment.
    public let checksUnfragmentedText: Bool

    /// A decoder that refuses messages over `maxMessageSize` bytes (1 MiB by default).
    public init(maxMessageSize: Int = 1 << 20, checksUnfragmentedText: Bool = true) {
        self.maxMessageSize = max(0, maxMessageSize)
        self.checksUnfragmentedText = checksUnfragmentedText
    }

    /// Whether a close frame was decoded; later bytes are ignored.
    public var isClosed: Bool {
        if case .closed = state { return true }
        return false
    }

    /// The error that finished the decoder, if one did.
    public var error: WebSocketProtocolError? {
        if case .failed(let error) = state { return error }
        return nil
    }

    /// Decodes every complete frame in `bytes` (after what earlier calls left unfinished),
    /// calling `onMessage` for each message and control frame in order, and keeps an
    /// incomplete tail for the next call. Ping and pong frames between the fragments of a
    /// message are delivered at once. Throws the first broken rule; messages before it in
    /// `bytes` have been delivered.
    public mutating func decode(
        _ bytes: UnsafeRawBufferPointer,
        _ onMessage: (WebSocketMessage) -> Void
    ) throws(WebSocketProtocolError) {
        switch state {
        case .failed(let error): throw error
        case .closed: return
        case .open: break
        }
        do throws(WebSocketProtocolError) {
            try decodeFrames(bytes, onMessage)
        } catch {
            state = .failed(error)
            throw error
        }
    }

    private var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    private mutating func decodeFrames(_ bytes: UnsafeRawBufferPointer, _ onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) {
        var offset = 0
        if current != nil || !headerBytes.isEmpty {
            offset = try continueFrame(bytes, onMessage)
        }
        while offset < bytes.count && isOpen {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[offset...])
            switch parseHeader(rest) {
            case .broken(let rule):
                throw WebSocketProtocolError(rule)
            case .incomplete:
                headerBytes.append(rest)
                return
            case .header(let header):
                let frameEnd = header.headerLength + header.payloadLength
                let payloadStart = UnsafeRawBufferPointer(rebasing: rest[header.headerLength...])
                if rest.count >= frameEnd {
                    // The whole frame is here: hand out a view of it.
                    try handleWholeFrame(header, UnsafeRawBufferPointer(rebasing: payloadStart[..<header.payloadLength]), onMessage)
                    offset += frameEnd
                } else {
                    try beginFrame(header)
                    _ = try takePayload(payloadStart, onMessage)
                    return
                }
            }
        }
    }

    /// Continues the frame an earlier call left unfinished; returns how many bytes of
    /// `bytes` it used.
    private mutating func continueFrame(_ bytes: UnsafeRawBufferPointer, _ onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) -> Int {
        var offset = 0
        if current == nil {
            // A header never needs more than 10 bytes, so this never takes payload bytes
            // that the parse below does not account for.
            let held = headerBytes.count
            let taken = min(10 - held, bytes.count)
            headerBytes.append(UnsafeRawBufferPointer(rebasing: bytes[..<taken]))
            let parse = headerBytes.withUnsafeBytes { parseHeader($0) }
            switch parse {
            case .broken(let rule):
                throw WebSocketProtocolError(rule)
            case .incomplete:
                return taken
            case .header(let header):
                headerBytes.removeAll()
                offset = header.headerLength - held
                let available = bytes.count - offset
                let isWholeMessage = header.opcode >= 8 || (header.fin && header.opcode != 0)
                if isWholeMessage && available >= header.payloadLength {
                    // Only the header was split: the payload is all here, so no copy.
                    let payload = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + header.payloadLength)])
                    try handleWholeFrame(header, payload, onMessage)
                    return offset + header.payloadLength
                }
                try beginFrame(header)
            }
        }
        return offset + (try takePayload(UnsafeRawBufferPointer(rebasing: bytes[offset...]), onMessage))
    }

    /// Reads and checks the frame header at the start of `bytes`. Each byte is checked as
    /// soon as it is there, so a broken header fails even before it is complete.
    private func parseHeader(_ bytes: UnsafeRawBufferPointer) -> HeaderParse {
        guard bytes.count >= 1 else { return .incomplete }
        let first = bytes[0]
        guard first & 0x70 == 0 else { return .broken(.reservedBitsSet) }
        let fin = first & 0x80 != 0
        let opcode = first & 0x0F
        switch opcode {
        case 0:
            guard messageOpcode != 0 else { return .broken(.unexpectedContinuation) }
        case 1, 2:
            guard messageOpcode == 0 else { return .broken(.expectedContinuation) }
        case 8, 9, 10:
            guard fin else { return .broken(.fragmentedControlFrame) }
        default:
            return .broken(.unknownOpcode(opcode))
        }
        guard bytes.count >= 2 else { return .incomplete }
        let second = bytes[1]
        guard second & 0x80 == 0 else { return .broken(.maskedFrame) }
        let headerLength: Int
        var length = UInt64(second & 0x7F)
        // Longer encodings than needed are accepted: RFC 6455 asks senders for the minimal
        // one but gives receivers no reason to refuse the others.
        switch length {
        case 126:
            headerLength = 4
            guard bytes.count >= 4 else { return .incomplete }
            length = UInt64(bytes[2]) << 8 | UInt64(bytes[3])
        case 127:
            headerLength = 10
            guard bytes.count >= 3 else { return .incomplete }
            guard bytes[2] & 0x80 == 0 else { return .broken(.lengthTopBitSet) }
            guard bytes.count >= 10 else { return .incomplete }
            length = 0
            for i in 2..<10 { length = length << 8 | UInt64(bytes[i]) }
        default:
            headerLength = 2
        }
        if opcode >= 8 {
            guard length <= 125 else { return .broken(.controlFrameTooLong(length)) }
        } else {
            // Fragments already held count towards the limit; `message.count` never exceeds
            // `maxMessageSize`, so the subtraction cannot go negative.
            let held = message.count
            guard length <= UInt64(maxMessageSize - held) else {
                return .broken(.messageTooBig(length: length &+ UInt64(held), limit: maxMessageSize))
            }
        }
        // Both branches above bound `length` by an Int, so the conversion is exact.
        return .header(FrameHeader(fin: fin, opcode: opcode, headerLength: headerLength, payloadLength: Int(length)))
    }

    /// A frame whose payload is entirely in `payload`.
    private mutating func handleWholeFrame(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer, _ onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) {
        if header.opcode >= 8 {
            if try Self.deliverControl(header.opcode, payload, onMessage) { state = .closed }
        } else if header.fin && header.opcode != 0 {
            // Unfragmented: the common case, straight from the caller's bytes.
            if header.opcode == 1 {
                guard !checksUnfragmentedText || WebSocketUTF8.isValid(payload) else {
                    throw WebSocketProtocolError(.invalidUTF8)
                }
                onMessage(.text(payload))
            } else {
                onMessage(.binary(payload))
            }
        } else {
            if header.opcode != 0 { startMessage(header.opcode) }
            try appendData(payload)
            if header.fin { try finishMessage(onMessage) }
        }
    }

    /// Starts collecting the payload of a frame that continues in later reads.
    private mutating func beginFrame(_ header: FrameHeader) throws(WebSocketProtocolError) {
        current = header
        remaining = header.payloadLength
        if header.opcode == 1 || header.opcode == 2 { startMessage(header.opcode) }
    }

    /// Takes what `bytes` holds of the current frame's payload, finishing the frame when it
    /// is complete; returns how many bytes it used.
    private mutating func takePayload(_ bytes: UnsafeRawBufferPointer, _ onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) -> Int {
        guard let header = current else { return 0 }
        let used = min(remaining, bytes.count)
        let chunk = UnsafeRawBufferPointer(rebasing: bytes[..<used])
        if header.opcode >= 8 {
            control.append(chunk)
        } else {
            try appendData(chunk)
        }
        remaining -= used
        guard remaining == 0 else { return used }
        current = nil
        if header.opcode >= 8 {
            // `saved` shares the bytes without copying them; emptying `control` only resets
            // its indices, so the view stays intact while the frame is delivered.
            let saved = control
            control.removeAll()
            let outcome = saved.withUnsafeBytes { payload in
                Result { () throws(WebSocketProtocolError) -> Bool in
                    try Self.deliverControl(header.opcode, payload, onMessage)
                }
            }
            if try outcome.get() { state = .closed }
        } else if header.fin {
            try finishMessage(onMessage)
        }
        return used
    }

    private mutating func startMessage(_ opcode: UInt8) {
        messageOpcode = opcode
        message.removeAll()
        utf8Checked = 0
    }

    /// Adds data bytes to the message in progress; text is checked as far as it goes, so
    /// invalid UTF-8 fails at the first fragment (or read) that carries it.
    private mutating func appendData(_ bytes: UnsafeRawBufferPointer) throws(WebSocketProtocolError) {
        guard bytes.count > 0 else { return }
        message.append(bytes)
        guard messageOpcode == 1 else { return }
        let checked = utf8Checked
        let valid = message.withUnsafeBytes { WebSocketUTF8.validPrefixLength(UnsafeRawBufferPointer(rebasing: $0[checked...])) }
        guard let valid else { throw WebSocketProtocolError(.invalidUTF8) }
        utf8Checked += valid
    }

    /// Delivers the assembled message and empties the buffer for the next one.
    private mutating func finishMessage(_ onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) {
        let opcode = messageOpcode
        // A sequence still unfinished at the end of the message is invalid.
        if opcode == 1 && utf8Checked != message.count { throw WebSocketProtocolError(.invalidUTF8) }
        message.withUnsafeBytes { payload in
            onMessage(opcode == 1 ? .text(payload) : .binary(payload))
        }
        messageOpcode = 0
        message.removeAll()
        utf8Checked = 0
    }

    /// Delivers a ping, pong or close frame; returns true for a valid close, which finishes
    /// the decoder.
    private static func deliverControl(_ opcode: UInt8, _ payload: UnsafeRawBufferPointer, _ onMessage: (WebSocketMessage) -> Void) throws(WebSocketProtocolError) -> Bool {
        switch opcode {
        case 9:
            onMessage(.ping(payload))
            return false
        case 10:
            onMessage(.pong(payload))
            return false
        default:
            guard payload.count != 1 else { throw WebSocketProtocolError(.closePayloadTooShort) }
            guard payload.count >= 2 else {
                onMessage(.close(code: nil, reason: payload))
                return true
            }
            let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
            guard WebSocketProtocolError.isSendableCloseCode(code) else { throw WebSocketProtocolError(.invalidCloseCode(code)) }
            let reason = UnsafeRawBufferPointer(rebasing: payload[2...])
            guard WebSocketUTF8.isValid(reason) else { throw WebSocketProtocolError(.invalidCloseReason) }
            onMessage(.close(code: code, reason: reason))
            return true
        }
    }
}
