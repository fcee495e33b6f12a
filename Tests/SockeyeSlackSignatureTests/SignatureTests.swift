import SockeyeSlackSignature
import Testing

@Suite("Slack request signatures", .serialized)
struct SignatureTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let now: Int64 = 1_765_000_000

    func verdict(timestamp: String?, signature: String?, body: [UInt8] = Array("{}".utf8), now: Int64 = now) -> SlackRequestSignature.Verdict {
        body.withUnsafeBytes {
            SlackRequestSignature.verify(secret: Array(Self.secret.utf8), timestamp: timestamp, signature: signature, body: $0, now: now)
        }
    }

    /// A signature of `body` at `timestamp` (the signer itself is pinned by Slack's test vector below).
    func signed(_ timestamp: String, _ body: [UInt8] = Array("{}".utf8)) -> String {
        SlackRequestSignature.sign(secret: Array(Self.secret.utf8), timestamp: timestamp, body: body)
    }

    @Test("signing matches Slack's documented test vector, and that signature verifies")
    func signatureVector() {
        let body = Array(("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
            + "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
            + "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
            + "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c").utf8)
        let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
        #expect(signed("1531420618", body) == expected)
        #expect(verdict(timestamp: "1531420618", signature: expected, body: body, now: 1_531_420_618) == .valid)
    }

    @Test("a signature made at now, or within five minutes of it, is valid; another body, secret or time is not")
    func validAndInvalid() {
        let stamp = String(Self.now)
        #expect(verdict(timestamp: stamp, signature: signed(stamp)) == .valid)
        let earlier = String(Self.now - 299)
        #expect(verdict(timestamp: earlier, signature: signed(earlier)) == .valid)
        #expect(verdict(timestamp: stamp, signature: signed(stamp, Array("{ }".utf8))) == .mismatch)
        let old = String(Self.now - 301)
        #expect(verdict(timestamp: old, signature: signed(old)) == .stale(seconds: 301))
        let future = String(Self.now + 301)
        #expect(verdict(timestamp: future, signature: signed(future)) == .stale(seconds: -301))
        #expect(verdict(timestamp: nil, signature: signed(stamp)) == .missing)
        #expect(verdict(timestamp: stamp, signature: nil) == .missing)
    }

    @Test("timestamps that are not plain decimal digits of a sane length are malformed, never a trap",
          arguments: ["-9223372036854775808", "9223372036854775807", "-1", "+1", " 1", "1 ", "", "٣٣", "１７６５０００００００",
                      "1765000000.0", "0x69", "1e9", String(repeating: "9", count: 13), String(repeating: "9", count: 400),
                      "\u{0}1765000000", "17650000\u{301}00", "NaN", "🐟"])
    func malformedTimestamps(_ timestamp: String) {
        let result = verdict(timestamp: timestamp, signature: signed(timestamp))
        #expect(result == .malformed, "\(timestamp.debugDescription): \(result)")
    }

    @Test("timestamps of up to twelve digits far from now are stale, with any now (Int64.min and Int64.max included)")
    func extremeClocks() {
        let far = String(repeating: "9", count: 12)
        #expect(verdict(timestamp: far, signature: signed(far)) == .stale(seconds: Self.now - 999_999_999_999))
        #expect(verdict(timestamp: "0", signature: signed("0")) == .stale(seconds: Self.now))
        for now in [Int64.min, Int64.min + 1, -10_000, Int64.max, Int64.max - 1] {
            for stamp in ["0", "1", far, String(Self.now)] {
                let result = verdict(timestamp: stamp, signature: signed(stamp), now: now)
                guard case .stale = result else {
                    Issue.record("now \(now), timestamp \(stamp): \(result)")
                    continue
                }
            }
        }
        #expect(verdict(timestamp: "0", signature: signed("0"), now: 0) == .valid)
    }

    @Test("a signature that is not v0= and 64 hex digits is malformed, whatever the timestamp",
          arguments: ["", "v0=", "v1=" + String(repeating: "a", count: 64), "v0=" + String(repeating: "g", count: 64),
                      "v0=" + String(repeating: "a", count: 63), "v0=" + String(repeating: "a", count: 65),
                      "v0=" + String(repeating: "é", count: 32), String(repeating: "v", count: 10_000)])
    func malformedSignatures(_ signature: String) {
        #expect(verdict(timestamp: String(Self.now), signature: signature) == .malformed)
        #expect(verdict(timestamp: "-9223372036854775808", signature: signature) == .malformed)
    }
}
