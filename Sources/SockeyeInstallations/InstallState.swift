import SockeyeSlackSignature

/// The OAuth `state` of an install: random, bound to the browser that started it, valid for
/// ten minutes, used once. It keeps a stranger from completing an install in someone
/// else's browser (login CSRF) and a redirect from being replayed.
///
/// Issued without memory: the install page sets a cookie with 16 random bytes and sends
/// Slack a state of 16 random bytes (the nonce), the expiry and an HMAC-SHA256 over both
/// and the cookie's bytes, keyed from the app's client secret — so any node of a cluster,
/// or the daemon after a restart, can check it, and a state only verifies with the cookie
/// it was issued with. Single use is kept by `UsedStates` (the nonces seen, until they
/// expire). Sans-IO: time and random bytes are passed in.
public struct InstallStateSigner: Sendable {
    /// How long a state is valid (Slack's codes live as long).
    public static let lifetimeSeconds: Int64 = 600
    /// The name of the cookie that binds a state to the browser.
    public static let cookieName = "sockeye_install"
    private static let nonceLength = 16
    private static let macLength = 16
    private static let stateLength = nonceLength + 8 + macLength

    private let key: [UInt8]

    /// A signer keyed from the app's client secret (the state key is
    /// HMAC-SHA256(client secret, a fixed label), so the secret itself signs nothing).
    public init(clientSecret: String) {
        key = Self.hmac(key: Array(clientSecret.utf8), Array("sockeye install state v1".utf8))
    }

    /// A state and its cookie value, issued at `now` (seconds since 1970) from 32 random
    /// bytes (the first 16 the nonce, the rest the cookie).
    public func issue(now: Int64, random: [UInt8]) -> (state: String, cookie: String) {
        precondition(random.count >= 32, "32 random bytes")
        let nonce = Array(random[0..<16])
        let cookieBytes = Array(random[16..<32])
        let expiry = now &+ Self.lifetimeSeconds
        var raw = nonce
        raw += Self.bigEndian(expiry)
        raw += Array(mac(nonce: nonce, expiry: expiry, cookie: cookieBytes).prefix(Self.macLength))
        return (Base64URL.encode(raw), Base64URL.encode(cookieBytes))
    }

    /// What a redirect's state is worth.
    public enum Verdict: Sendable, Equatable {
        /// Issued by this app for this browser, not yet expired; `nonce` identifies it (for
        /// `UsedStates`), `expiresAt` is when it stops counting.
        case valid(nonce: String, expiresAt: Int64)
        /// No state, or no cookie.
        case missing
        /// Not a state this daemon issues (wrong length, not base64url, another key).
        case malformed
        /// Issued for another browser (the cookie does not match).
        case foreignCookie
        /// Older than ten minutes.
        case expired
    }

    /// Checks `state` with the browser's `cookie` at `now`. Constant time in the MAC.
    public func verify(state: String?, cookie: String?, now: Int64) -> Verdict {
        guard let state, !state.isEmpty, let cookie, !cookie.isEmpty else { return .missing }
        guard let raw = Base64URL.decode(state), raw.count == Self.stateLength else { return .malformed }
        guard let cookieBytes = Base64URL.decode(cookie), cookieBytes.count == 16 else { return .foreignCookie }
        let nonce = Array(raw[0..<16])
        var expiry: Int64 = 0
        for byte in raw[16..<24] { expiry = expiry << 8 | Int64(byte) }
        let given = Array(raw[24...])
        let expected = Array(mac(nonce: nonce, expiry: expiry, cookie: cookieBytes).prefix(Self.macLength))
        guard HMACSHA256.equal(given, expected) else {
            // Either a forged state or the right state with another browser's cookie: the
            // state alone cannot tell them apart.
            return .foreignCookie
        }
        // A valid MAC with an expiry further than a lifetime away was not issued by us.
        guard expiry <= now &+ Self.lifetimeSeconds else { return .malformed }
        guard now < expiry else { return .expired }
        return .valid(nonce: Base64URL.encode(nonce), expiresAt: expiry)
    }

    private func mac(nonce: [UInt8], expiry: Int64, cookie: [UInt8]) -> [UInt8] {
        Self.hmac(key: key, nonce + Self.bigEndian(expiry) + cookie)
    }

    static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        HMACSHA256.digest(key: key, message: message)
    }

    private static func bigEndian(_ value: Int64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: value >> (56 - 8 * $0)) }
    }
}

/// The nonces of states already redeemed, each until its state expires: a replayed
/// redirect is refused. Bounded: when `capacity` unexpired nonces are held, a new one is
/// refused (an install then fails with "try again"), never admitted by forgetting an old
/// one. Not thread-safe; the daemon keeps it behind a lock.
public struct UsedStates: Sendable {
    public let capacity: Int
    private var expiries: [String: Int64] = [:]

    public init(capacity: Int = 50_000) {
        self.capacity = capacity
    }

    /// What redeeming a nonce did.
    public enum Redemption: Sendable, Equatable {
        case first
        case replayed
        /// Too many states redeemed in the last ten minutes.
        case full
    }

    /// Records `nonce` as used until `expiresAt`, unless it was used before.
    public mutating func redeem(_ nonce: String, expiresAt: Int64, now: Int64) -> Redemption {
        if let until = expiries[nonce], until > now { return .replayed }
        if expiries.count >= capacity { expiries = expiries.filter { $0.value > now } }
        guard expiries.count < capacity else { return .full }
        expiries[nonce] = expiresAt
        return .first
    }

    public var count: Int { expiries.count }
}

/// Base64 with the URL alphabet and no padding (RFC 4648 §5): safe in a query and a cookie.
enum Base64URL {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index < bytes.count {
            let b0 = UInt32(bytes[index])
            let b1 = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
            let b2 = index + 2 < bytes.count ? UInt32(bytes[index + 2]) : 0
            let group = b0 << 16 | b1 << 8 | b2
            let characters = min(4, (bytes.count - index) * 4 / 3 + 1)
            for position in 0..<characters { out.append(alphabet[Int(group >> (18 - 6 * UInt32(position)) & 63)]) }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text`, or nil when it is not unpadded base64url (or longer than 1 KiB).
    static func decode(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count <= 1024, characters.count % 4 != 1 else { return nil }
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in characters {
            let value: UInt32
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(character - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(character - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(character - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            buffer = buffer << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits must be zero (one encoding per byte string).
        guard buffer == 0 else { return nil }
        return out
    }
}
