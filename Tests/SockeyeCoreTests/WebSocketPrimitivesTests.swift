@testable import SockeyeCore
import Testing

@Suite("WebSocket SHA-1, UTF-8 and masking")
struct WebSocketPrimitivesTests {
    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    @Test("SHA-1 matches the FIPS 180 / RFC 3174 test vectors")
    func sha1Vectors() {
        let vectors: [(String, String)] = [
            ("", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
            ("abc", "a9993e364706816aba3e25717850c26c9cd0d89d"),
            ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "84983e441c3bd26ebaae4aa1f95129e5e54670f1"),
            (String(repeating: "0123456701234567012345670123456701234567012345670123456701234567", count: 10),
             "dea356a2cddd90c7a7ecedc5ebb563934f460452"),
        ]
        for (message, digest) in vectors {
            #expect(Self.hex(WebSocketSHA1.digest(Array(message.utf8))) == digest, "\(message.prefix(10))")
        }
        #expect(Self.hex(WebSocketSHA1.digest([UInt8](repeating: 0x61, count: 1_000_000))) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    @Test("SHA-1 pads correctly around the 55/56/63/64-byte block edges")
    func sha1BlockEdges() {
        // Digests of "a" repeated n times (computed with an independent implementation).
        let expected: [Int: String] = [
            55: "c1c8bbdc22796e28c0e15163d20899b65621d65a",
            56: "c2db330f6083854c99d4b5bfb6e8f29f201be699",
            63: "03f09f5b158a7a8cdad920bddc29b81c18a551f5",
            64: "0098ba824b5c16427bd7a1122a5a442a25ec644d",
            65: "11655326c708d70319be2610e8a57d9a5b959d3b",
        ]
        for (count, digest) in expected {
            #expect(Self.hex(WebSocketSHA1.digest([UInt8](repeating: 0x61, count: count))) == digest, "\(count) bytes")
        }
    }

    @Test("RFC 6455's example key gives its example accept value")
    func acceptExample() {
        let digest = WebSocketSHA1.digest(Array(("dGhlIHNhbXBsZSBub25jZQ==" + WebSocketHandshake.guid).utf8))
        #expect(Base64.encode(digest) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    func prefix(_ bytes: [UInt8]) -> Int? {
        bytes.withUnsafeBytes { WebSocketUTF8.validPrefixLength($0) }
    }

    @Test("UTF-8 validation agrees with the standard library on every 1-, 2- and 3-byte sequence")
    func utf8Exhaustive() {
        for a in 0...255 {
            #expect((prefix([UInt8(a)]) == 1) == (String(validating: [UInt8(a)], as: UTF8.self) != nil))
            for b in 0...255 {
                let two = [UInt8(a), UInt8(b)]
                #expect((prefix(two) == 2) == (String(validating: two, as: UTF8.self) != nil), "\(two)")
            }
        }
        for a in 0xE0...0xEF {
            for b in 0x70...0xC5 {
                for c in 0x70...0xC5 {
                    let three = [UInt8(a), UInt8(b), UInt8(c)]
                    #expect((prefix(three) == 3) == (String(validating: three, as: UTF8.self) != nil), "\(three)")
                }
            }
        }
    }

    @Test("UTF-8 validation refuses overlongs, surrogates, code points past U+10FFFF and stray continuations")
    func utf8Refusals() {
        let bad: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80],
            [0xF0, 0x8F, 0xBF, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80],
            [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xBF], [0x61, 0x80], [0xC2, 0x41], [0xE2, 0x82, 0x41],
        ]
        for bytes in bad {
            #expect(prefix(bytes) == nil, "\(bytes)")
            // Also after a long ASCII run, so the word-at-a-time path hands over correctly.
            #expect(prefix(asciiText(37) + bytes) == nil, "\(bytes) after ASCII")
        }
        let good: [[UInt8]] = [[0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xED, 0x9F, 0xBF], [0xEE, 0x80, 0x80],
                               [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF]]
        for bytes in good { #expect(prefix(bytes) == bytes.count, "\(bytes)") }
    }

    @Test("an unfinished sequence at the end is reported as a valid prefix only if it can still become valid")
    func utf8UnfinishedTail() {
        #expect(prefix([0x61, 0xE2]) == 1)
        #expect(prefix([0x61, 0xE2, 0x82]) == 1)
        #expect(prefix([0x61, 0xF0, 0x9F, 0x98]) == 1)
        #expect(prefix([0x61, 0xE0, 0x80]) == nil)  // would be overlong
        #expect(prefix([0x61, 0xED, 0xA0]) == nil)  // would be a surrogate
        #expect(prefix([0x61, 0xF4, 0x90]) == nil)  // would pass U+10FFFF
    }

    @Test("a non-ASCII character is found at every offset of a long ASCII run")
    func utf8EveryOffset() {
        for position in 0..<70 {
            var bytes = asciiText(70)
            bytes.insert(contentsOf: [0xC3, 0xA9], at: position)
            #expect(prefix(bytes) == bytes.count, "é at \(position)")
            bytes[position + 1] = 0x41
            #expect(prefix(bytes) == nil, "broken é at \(position)")
        }
    }

    @Test("masking XORs byte i with key byte i % 4, at every length, and undoes itself")
    func masking() {
        let key: (UInt8, UInt8, UInt8, UInt8) = (0x12, 0x34, 0x56, 0x78)
        let keyBytes: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        for count in 0..<80 {
            let original = patternBytes(count)
            var bytes = original
            bytes.withUnsafeMutableBytes { WebSocketMasking.apply(key: key, to: $0) }
            #expect(bytes == original.enumerated().map { $0.element ^ keyBytes[$0.offset % 4] }, "\(count) bytes")
            bytes.withUnsafeMutableBytes { WebSocketMasking.apply(key: key, to: $0) }
            #expect(bytes == original)
        }
    }
}
