/// Why the server's frames broke RFC 6455 and the connection must be closed.
///
/// `closeCode` is the status the client puts in its own close frame (RFC 6455 §7.4.1):
/// 1002 for a protocol error, 1007 for invalid UTF-8, 1009 for a message too big to take.
public struct WebSocketProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The rule a frame broke.
    public enum Rule: Sendable, Hashable {
        /// An RSV bit is set, and no extension was negotiated to give it a meaning (§5.2).
        case reservedBitsSet
        /// An opcode RFC 6455 does not define (3–7, 11–15) (§5.2).
        case unknownOpcode(UInt8)
        /// The server masked a frame; only clients mask (§5.1).
        case maskedFrame
        /// A ping, pong or close frame longer than 125 bytes (§5.5).
        case controlFrameTooLong(UInt64)
        /// A ping, pong or close frame without FIN (§5.5).
        case fragmentedControlFrame
        /// A continuation frame when no fragmented message is in progress (§5.4).
        case unexpectedContinuation
        /// A new text or binary frame while a fragmented message is unfinished (§5.4).
        case expectedContinuation
        /// A 64-bit payload length with its most significant bit set (§5.2).
        case lengthTopBitSet
        /// The message would exceed the decoder's `maxMessageSize`; `length` is the size it
        /// declared (fragments before it included).
        case messageTooBig(length: UInt64, limit: Int)
        /// A text message that is not valid UTF-8 (§8.1).
        case invalidUTF8
        /// A close frame whose payload is one byte: too short for a status code (§5.5.1).
        case closePayloadTooShort
        /// A close status code that must not be sent: below 1000, 1004–1006, 1015, the
        /// unassigned 1016–2999, or 5000 and above, which RFC 6455 gives no meaning (§7.4).
        case invalidCloseCode(UInt16)
        /// A close reason that is not valid UTF-8 (§5.5.1).
        case invalidCloseReason
    }

    /// The rule that was broken.
    public let rule: Rule

    /// What the client sends in its close frame: 1002, 1007 or 1009.
    public var closeCode: UInt16

    /// The error for `rule`, with its close code.
    public init(_ rule: Rule) {
        self.rule = rule
        switch rule {
        case .invalidUTF8, .invalidCloseReason: closeCode = 1007
        case .messageTooBig: closeCode = 1009
        default: closeCode = 1002
        }
    }

    /// Which rule was broken, for logs.
    public var description: String {
        switch rule {
        case .reservedBitsSet: "RSV bits set without a negotiated extension"
        case .unknownOpcode(let opcode): "unknown opcode \(opcode)"
        case .maskedFrame: "masked frame from server"
        case .controlFrameTooLong(let length): "control frame of \(length) bytes (limit 125)"
        case .fragmentedControlFrame: "fragmented control frame"
        case .unexpectedContinuation: "continuation frame with no message in progress"
        case .expectedContinuation: "new data frame while a fragmented message is in progress"
        case .lengthTopBitSet: "64-bit payload length with the top bit set"
        case .messageTooBig(let length, let limit): "message of \(length) bytes over the \(limit)-byte limit"
        case .invalidUTF8: "text message is not valid UTF-8"
        case .closePayloadTooShort: "close frame with a 1-byte payload"
        case .invalidCloseCode(let code): "close code \(code) must not be sent"
        case .invalidCloseReason: "close reason is not valid UTF-8"
        }
    }

    /// Whether a peer may send `code` in a close frame (RFC 6455 §7.4.1–§7.4.2 and the IANA
    /// registry: 1000–1003, 1007–1014 and 3000–4999).
    public static func isSendableCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }
}
