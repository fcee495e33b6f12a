import CSockeyeOpenSSL
import Foundation

/// The key an app's shared installations are sealed with: AES-256-GCM under
/// HMAC-SHA256(client secret, "sockeye installations v1"). Every node of the app derives it
/// from the client secret in its configuration; the NATS servers, and whoever reads their
/// streams or disks, never see it. A changed client secret gives another key (`id` tells
/// them apart in a record without revealing either).
///
/// Threading: a value; any thread. The key's bytes live in this value (and are not logged:
/// `description` shows the id only).
package struct InstallationSealKey: Sendable, CustomStringConvertible {
    /// What the key is derived for (HMAC's message); a new layout would take a new label.
    package static let label = "sockeye installations v1"
    package static let nonceBytes = Int(SOCKEYE_AEAD_NONCE_BYTES)
    package static let tagBytes = Int(SOCKEYE_AEAD_TAG_BYTES)

    private let bytes: [UInt8]
    /// A fingerprint of the key (8 hex digits of HMAC-SHA256(key, "key id")): which key
    /// sealed a record, shown in clear.
    package let id: String

    /// The key of the app whose OAuth client secret is `clientSecret`.
    package init(clientSecret: String) {
        bytes = Self.hmac(key: Array(clientSecret.utf8), message: Array(Self.label.utf8))
        id = Self.hmac(key: bytes, message: Array("key id".utf8)).prefix(4).map { String(format: "%02x", $0) }.joined()
    }

    package var description: String { "InstallationSealKey(id: \(id))" }

    /// Why sealing failed (OpenSSL or the kernel's random source; never expected).
    package struct SealError: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Seals `plain` with a fresh random nonce, authenticating `aad` with it.
    package func seal(_ plain: [UInt8], aad: [UInt8]) throws(SealError) -> (nonce: [UInt8], sealed: [UInt8]) {
        var nonce = [UInt8](repeating: 0, count: Self.nonceBytes)
        var filled = 0
        while filled < nonce.count {
            let got = nonce.withUnsafeMutableBytes { sockeye_random_fill($0.baseAddress! + filled, $0.count - filled) }
            guard got > 0 else { throw SealError(description: "no random bytes for a nonce: \(String(cString: strerror(errno)))") }
            filled += got
        }
        return (nonce, try seal(plain, aad: aad, nonce: nonce))
    }

    /// Seals `plain` with `nonce` (12 bytes; tests only: a nonce must never repeat under a key).
    package func seal(_ plain: [UInt8], aad: [UInt8], nonce: [UInt8]) throws(SealError) -> [UInt8] {
        guard nonce.count == Self.nonceBytes else { throw SealError(description: "a nonce of \(nonce.count) bytes") }
        var out = [UInt8](repeating: 0, count: plain.count + Self.tagBytes)
        let written = bytes.withUnsafeBufferPointer { key in
            nonce.withUnsafeBufferPointer { nonce in
                aad.withUnsafeBytes { aad in
                    plain.withUnsafeBytes { plain in
                        out.withUnsafeMutableBufferPointer { out in
                            sockeye_aead_seal(key.baseAddress, nonce.baseAddress, aad.baseAddress, aad.count, plain.baseAddress, plain.count,
                                              out.baseAddress)
                        }
                    }
                }
            }
        }
        guard written == out.count else { throw SealError(description: "AES-256-GCM sealing failed") }
        return out
    }

    /// The plaintext of `sealed` under `nonce` and `aad`; nil when it does not open (another
    /// key, nonce or associated data, or altered bytes).
    package func open(_ sealed: [UInt8], aad: [UInt8], nonce: [UInt8]) -> [UInt8]? {
        guard nonce.count == Self.nonceBytes, sealed.count >= Self.tagBytes else { return nil }
        var out = [UInt8](repeating: 0, count: max(1, sealed.count - Self.tagBytes))
        let read = bytes.withUnsafeBufferPointer { key in
            nonce.withUnsafeBufferPointer { nonce in
                aad.withUnsafeBytes { aad in
                    sealed.withUnsafeBytes { sealed in
                        out.withUnsafeMutableBufferPointer { out in
                            sockeye_aead_open(key.baseAddress, nonce.baseAddress, aad.baseAddress, aad.count, sealed.baseAddress, sealed.count,
                                              out.baseAddress)
                        }
                    }
                }
            }
        }
        guard read >= 0, read == sealed.count - Self.tagBytes else { return nil }
        return Array(out.prefix(read))
    }

    private static func hmac(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let status = key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                out.withUnsafeMutableBufferPointer { sockeye_hmac_sha256(key.baseAddress, key.count, message.baseAddress, message.count, $0.baseAddress) }
            }
        }
        // Fails only when OpenSSL runs out of memory; a zero key would then open nothing sealed
        // with the real one (records are republished once it works again).
        return status == 0 ? out : [UInt8](repeating: 0, count: 32)
    }
}
