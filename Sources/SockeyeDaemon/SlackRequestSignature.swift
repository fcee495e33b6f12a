import CSockeyeTLS

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
        var out = [UInt8](repeating: 0, count: 32)
        let status = secret.withUnsafeBytes { key in
            message.withUnsafeBytes { bytes in
                out.withUnsafeMutableBufferPointer { sockeye_hmac_sha256(key.baseAddress, key.count, bytes.baseAddress, bytes.count, $0.baseAddress) }
            }
        }
        precondition(status == 0, "HMAC-SHA256 failed")  // only on memory exhaustion
        return out
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

    /// Checks a request's headers against its body, at `now` (Unix seconds). The compare of
    /// the HMAC takes the same time whatever bytes differ.
    public static func verify(secret: [UInt8], timestamp: String?, signature: String?, body: UnsafeRawBufferPointer,
                              now: Int64) -> Verdict {
        guard let timestamp, let signature else { return .missing }
        guard let signedAt = Int64(timestamp) else { return .malformed }
        let skew = now - signedAt
        guard abs(skew) <= window else { return .stale(seconds: skew) }
        let expected = Array(sign(secret: secret, timestamp: timestamp, body: body).utf8)
        let given = Array(signature.utf8)
        guard given.count == expected.count, given.starts(with: "v0=".utf8) else { return .malformed }
        let equal = given.withUnsafeBytes { a in expected.withUnsafeBytes { b in sockeye_memeq_constant_time(a.baseAddress, b.baseAddress, a.count) } }
        return equal == 1 ? .valid : .mismatch
    }
}
