import SockeyeCore
import SockeyeDaemon
import SockeyeSinkKit
import SockeyeSlackSignature
import Testing

/// SplitMix64: a small seeded generator, so a failing input can be reproduced from the seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Strings made of the pieces that break number and header parsers: digit runs (some
/// hundreds long), signs, points, exponents, `inf`/`nan`, units, other scripts' digits,
/// combining marks, controls, CR/LF, and pieces of HTTP heads and signatures.
struct ArbitraryText {
    var random: SeededGenerator

    static let pieces = [
        "0", "1", "9", "-", "+", ".", "e", "E", "e308", "inf", "infinity", "nan", "NaN", "0x", "p", " ", "\t", "\r", "\n", "\r\n",
        "ms", "s", "m", "h", "d", "w", "B", "KiB", "MiB", "GiB", "TiB", "KB", "GB", "TB", "iB",
        "٣", "１", "৫", "\u{301}", "\u{0}", "\u{7F}", "\u{FEFF}", "é", "🐟", "∞",
        "v0=", "v1=", "deadbeef", "HTTP/1.1 ", "HTTP/1.0 ", "200 OK", "100 Continue", "Content-Length: ", "Transfer-Encoding: chunked",
        "Transfer-Encoding: gzip, chunked", ":", ";", ",", "\r\n\r\n", "9223372036854775807", "9223372036854775808", "-9223372036854775808",
        "18446744073709551616", "ffffffffffffffff", "${", "}", "${SLACK_APP_TOKEN}", "'", "\"",
    ]

    mutating func digits(_ count: Int) -> String {
        var bytes = [UInt8](repeating: 0x30, count: count)
        for index in bytes.indices { bytes[index] += UInt8(random.next() % 10) }
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func scalar() -> String {
        // Any Unicode scalar value (surrogates excluded by the initializer).
        while true {
            if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &random)) { return String(Character(scalar)) }
        }
    }

    mutating func next() -> String {
        var text = ""
        for _ in 0..<Int.random(in: 0...8, using: &random) {
            switch Int.random(in: 0..<10, using: &random) {
            case 0...4: text += Self.pieces.randomElement(using: &random)!
            case 5, 6: text += digits(Int.random(in: 1...20, using: &random))
            case 7: text += digits(Int.random(in: 20...400, using: &random))
            case 8: text += scalar()
            default: text += String(Character(Unicode.Scalar(UInt8.random(in: 0...127, using: &random))))
            }
        }
        return text
    }
}

@Suite("arbitrary input never traps the parsers of numbers from outside")
struct ArbitraryInputTests {
    static let seed: UInt64 = 0x5EC0_0E25
    static let iterations = 50_000

    @Test("the signature verifier, the config's duration and size parsers and the HTTP response parser over 50 000 arbitrary strings")
    func arbitraryStrings() {
        var text = ArbitraryText(random: SeededGenerator(seed: Self.seed))
        let secret = Array("8f742231b10e8888abcd99yyyzzz85a5".utf8)
        let body = Array("{}".utf8)
        var counts = (valid: 0, stale: 0, durations: 0, sizes: 0, responses: 0)
        for iteration in 0..<Self.iterations {
            let input = text.next()
            let now = Int64(bitPattern: text.random.next()) >> Int64.random(in: 0...63, using: &text.random)

            // The verifier: as timestamp with a well-formed signature, and as signature.
            let wellFormed = "v0=" + String(repeating: "0", count: 64)
            for verdict in [
                body.withUnsafeBytes { SlackRequestSignature.verify(secret: secret, timestamp: input, signature: wellFormed, body: $0, now: now) },
                body.withUnsafeBytes { SlackRequestSignature.verify(secret: secret, timestamp: "1765000000", signature: input, body: $0, now: now) },
            ] {
                if verdict == .valid { counts.valid += 1 }
                if case .stale = verdict { counts.stale += 1 }
            }

            // The configuration's quantities: whatever comes back is finite and in range.
            let durationRange = 0.001...86_400.0
            if let seconds = ConfigQuantity.seconds(input, in: durationRange) {
                counts.durations += 1
                #expect(seconds.isFinite && durationRange.contains(seconds), "seed \(Self.seed) iteration \(iteration): \(input.debugDescription)")
                _ = BoundedTime.duration(seconds)
            }
            let sizeRange: ClosedRange<Int64> = 1...(64 << 40)
            if let bytes = ConfigQuantity.bytes(input, in: sizeRange) {
                counts.sizes += 1
                #expect(sizeRange.contains(bytes), "seed \(Self.seed) iteration \(iteration): \(input.debugDescription)")
            }
            _ = BoundedTime.milliseconds(Double(input) ?? .nan)

            // The HTTP response parser: the text alone, and after a valid status line, split
            // at a random point.
            for head in [input, "HTTP/1.1 200 OK\r\n" + input] {
                let bytes = Array(head.utf8)
                let split = Int.random(in: 0...bytes.count, using: &text.random)
                var parser = HTTPResponseParser(maxHeaderBytes: 4096, maxBodyBytes: 4096)
                do {
                    let first = try bytes[..<split].withUnsafeBytes { try parser.receive($0) }
                    let second = try bytes[split...].withUnsafeBytes { try parser.receive($0) }
                    let response = try first ?? second ?? parser.receiveEnd()
                    counts.responses += 1
                    #expect(response.body.count <= 4096)
                } catch {
                    // Refused input is the expected outcome for most of it; a trap is the failure.
                }
            }
        }
        // Arbitrary text never carries a valid signature, and the generator reaches the
        // interesting paths (numbers that parse, timestamps that are only stale).
        #expect(counts.valid == 0)
        #expect(counts.stale > 0 && counts.durations > 0 && counts.sizes > 0 && counts.responses > 0, "\(counts)")
    }

    @Test("the configuration's durations and sizes through the YAML reader: arbitrary values are accepted in range or refused, never a trap")
    func arbitraryConfigurationValues() {
        var text = ArbitraryText(random: SeededGenerator(seed: Self.seed ^ 0xC0F1))
        var refused = 0
        for _ in 0..<1_000 {
            let value = text.next().replacingOccurrences(of: "'", with: "''")
            let yaml = """
                apps:
                  - name: a
                    app_token: xapp-1-A1-1-s
                    routes: [{sinks: [c, s]}]
                    ingress: {max_body: '\(value)'}
                sinks:
                  c: {type: command, command: [x], timeout: '\(value)', concurrency: '\(value)'}
                  s: {type: spool, path: x, max_age: '\(value)', max_size: '\(value)'}
                """
            do {
                let config = try ConfigLoader.parse(yaml, source: "arbitrary.yaml", environment: [:])
                if case .command(let command) = config.sinks["c"] {
                    #expect(command.timeoutSeconds.isFinite && command.timeoutSeconds > 0)
                }
            } catch {
                refused += 1
                #expect(!error.description.isEmpty)
            }
        }
        #expect(refused > 0)
    }
}
