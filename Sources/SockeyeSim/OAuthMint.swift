/// Makes the OAuth side's secrets and ids: authorization codes, access and refresh tokens,
/// bot ids. Randomness comes from `next` (by default the system's CSPRNG, so tokens are
/// unguessable; tests may inject a deterministic source). No I/O of its own.
struct OAuthMint {
    /// 64 random bits per call.
    var next: () -> UInt64

    /// The system's cryptographically secure generator (`getrandom` on Linux).
    static func system() -> OAuthMint {
        OAuthMint { var g = SystemRandomNumberGenerator(); return g.next() }
    }

    static let base62 = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    static let upperAlnum = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    /// `count` characters drawn uniformly from `alphabet` (rejection sampling, no bias).
    func string(_ count: Int, from alphabet: [Character]) -> String {
        let n = UInt64(alphabet.count)
        let limit = UInt64.max - UInt64.max % n
        var out = ""
        out.reserveCapacity(count)
        while out.count < count {
            var v = next()
            while v >= limit { v = next() }
            out.append(alphabet[Int(v % n)])
        }
        return out
    }

    /// Decimal digits (for the numeric parts Slack's tokens and codes have).
    func digits(_ count: Int) -> String { string(count, from: Array("0123456789")) }

    /// `<13 digits>.<13 digits>.<64 base62>`: about 380 random bits.
    func code() -> String { "\(digits(13)).\(digits(13)).\(string(64, from: Self.base62))" }

    /// A bot or user access token. Without rotation `xoxb-<n>-<n>-<24>` /
    /// `xoxp-<n>-<n>-<n>-<32>`; with rotation `xoxe.xoxb-1-…` / `xoxe.xoxp-1-…`.
    func accessToken(bot: Bool, rotating: Bool) -> String {
        let kind = bot ? "xoxb" : "xoxp"
        let body = bot ? "\(digits(13))-\(digits(13))-\(string(24, from: Self.base62))"
                       : "\(digits(13))-\(digits(13))-\(digits(13))-\(string(32, from: Self.base62))"
        return rotating ? "xoxe.\(kind)-1-\(body)" : "\(kind)-\(body)"
    }

    /// `xoxe-1-…`: a single-use refresh token.
    func refreshToken() -> String { "xoxe-1-\(string(8, from: Self.upperAlnum))-\(digits(13))-\(string(64, from: Self.base62))" }

    /// An id with `prefix` and 10 upper-case alphanumerics (`U…`, `B…`).
    func id(_ prefix: String) -> String { prefix + string(10, from: Self.upperAlnum) }
}
