
/// Slack's v0 request signature (Events API over HTTP, slash commands, interactivity):
/// `X-Slack-Signature: v0=` + hex(HMAC-SHA256(signing secret, `v0:` + timestamp + `:` +
/// body)), with `X-Slack-Request-Timestamp` the Unix time the request was signed. The
/// forwarder signs what it sends with it; the ingress checks what it receives.
public enum SlackRequestSignature {
    /// How far a request's timestamp may be from now (Slack's advice: five minutes).
    public static let window: Int64 = 300

    /// Why a request is refused, or that it is not.
    public enum Verdict: Sendable, Equatable, CustomStringConvertible {
        case valid
        /// No `X-Slack-Signature` or no `X-Slack-Request-Timestamp`.
        case missing
        /// A timestamp that is not an integer, or a signature that is not `v0=` + 64 hex digits.
        case malformed
        /// Signed more than `window` seconds from now (a replay, or a clock far off).
        case stale(seconds: Int64)
        /// The HMAC does not match: another secret, or a changed body.
        case mismatch

        /// A metric label.
        public var reason: String {
            switch self {
            case .valid: "valid"
            case .missing: "missing_signature"
            case .malformed: "malformed_signature"
            case .stale: "stale_timestamp"
            case .mismatch: "bad_signature"
            }
        }

        public var description: String {
            switch self {
            case .valid: "valid signature"
            case .missing: "X-Slack-Signature or X-Slack-Request-Timestamp is missing"
            case .malformed: "X-Slack-Signature or X-Slack-Request-Timestamp is malformed"
            case .stale(let seconds): "the request was signed \(seconds) s from now (more than \(SlackRequestSignature.window) s)"
            case .mismatch: "the signature does not match the body (wrong signing secret?)"
            }
        }
    }

    /// The 32-byte HMAC of `v0:<timestamp>:<body>`.
    static func mac(secret: [UInt8], timestamp: String, body: UnsafeRawBufferPointer) -> [UInt8] {
        var message: [UInt8] = []
        message.reserveCapacity(body.count + timestamp.utf8.count + 4)
        message.append(contentsOf: "v0:".utf8)
        message.append(contentsOf: timestamp.utf8)
        message.append(0x3A)
        message.append(contentsOf: body)
        return HMACSHA256.digest(key: secret, message: message)
    }

    /// `v0=` + the lowercase hex HMAC: the value of `X-Slack-Signature`.
    public static func sign(secret: [UInt8], timestamp: String, body: UnsafeRawBufferPointer) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = Array("v0=".utf8)
        for byte in mac(secret: secret, timestamp: timestamp, body: body) {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// `sign(secret:timestamp:body:)` for a body held in an array.
    public static func sign(secret: [UInt8], timestamp: String, body: [UInt8]) -> String {
        body.withUnsafeBytes { sign(secret: secret, timestamp: timestamp, body: $0) }
    }

    /// The longest timestamp taken: twelve decimal digits reach the year 33658, so any
    /// real Unix time fits and the value can never overflow an `Int64`.
    static let maxTimestampDigits = 12

    /// A timestamp header's value as Unix seconds: ASCII digits only (no sign, space or
    /// other numerals), at most `maxTimestampDigits` of them; nil for anything else.
    static func timestampSeconds(_ text: String) -> Int64? {
        let utf8 = text.utf8
        guard !utf8.isEmpty, utf8.count <= maxTimestampDigits else { return nil }
        var value: Int64 = 0
        for byte in utf8 {
            guard byte >= 0x30, byte <= 0x39 else { return nil }
            value = value * 10 + Int64(byte - 0x30)  // at most 12 digits: cannot overflow
        }
        return value
    }

    /// Whether `signature` has the shape of a v0 signature: `v0=` and 64 hex digits.
    static func isWellFormed(signature: String) -> Bool {
        let utf8 = signature.utf8
        guard utf8.count == 67, utf8.starts(with: "v0=".utf8) else { return false }
        return utf8.dropFirst(3).allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
        }
    }

    /// Checks a request's headers against its body, at `now` (Unix seconds). Total: any
    /// header text and any `now` give a verdict, never a trap. The signature's shape and the
    /// timestamp's digits are checked first, the window with overflow-checked arithmetic,
    /// and the compare of the HMAC takes the same time whatever bytes differ.
    public static func verify(secret: [UInt8], timestamp: String?, signature: String?, body: UnsafeRawBufferPointer,
                              now: Int64) -> Verdict {
        guard let timestamp, let signature else { return .missing }
        guard isWellFormed(signature: signature), let signedAt = timestampSeconds(timestamp) else { return .malformed }
        let (skew, overflow) = now.subtractingReportingOverflow(signedAt)
        // `now` far below zero is a broken clock, not a request signed in the future: stale.
        guard !overflow else { return .stale(seconds: Int64.min) }
        guard skew.magnitude <= UInt64(window) else { return .stale(seconds: skew) }
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        return HMACSHA256.equal(given, expected) ? .valid : .mismatch
    }
}
