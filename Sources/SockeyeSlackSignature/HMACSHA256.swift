import CSockeyeOpenSSL

/// HMAC-SHA256 (OpenSSL's) and a constant-time comparison: the one implementation the
/// request signatures and the install states share.
public enum HMACSHA256 {
    /// The 32-byte HMAC of `message` with `key`.
    public static func digest(key: [UInt8], message: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let status = key.withUnsafeBytes { key in
            out.withUnsafeMutableBufferPointer { sockeye_hmac_sha256(key.baseAddress, key.count, message.baseAddress, message.count, $0.baseAddress) }
        }
        precondition(status == 0, "HMAC-SHA256 failed")  // only on memory exhaustion
        return out
    }

    /// The 32-byte HMAC of `message` with `key`.
    public static func digest(key: [UInt8], message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { digest(key: key, message: $0) }
    }

    /// Whether `a` and `b` are equal, in a time that depends on their length only.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { a in b.withUnsafeBytes { b in sockeye_memeq_constant_time(a.baseAddress, b.baseAddress, a.count) } } == 1
    }
}
