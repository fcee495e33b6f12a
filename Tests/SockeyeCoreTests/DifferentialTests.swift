import CJansson
import SockeyeCore
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The envelope scanner (and the ack scanner, on the same frames) against jansson, over
/// generated and mutated frames.
///
/// `SOCKEYE_DIFF_SEED` replays a run (the seed is printed); `SOCKEYE_DIFF_CASES` sets the
/// number of frames (default 100 000). The work is split over two shards with derived
/// seeds, each deterministic.
@Suite("Differential: scanner vs jansson")
struct DifferentialTests {
    static let shards = 2

    /// Counters for the summary line.
    struct Stats: Sendable {
        var cases = 0
        var valid = 0
        var invalid = 0
        var excluded = 0
        var mutated = 0
        var depthExceeded = 0
        var invalidStoppedAtDepth = 0
        var janssonAcceptedNUL = 0
        var smallDepthLimit = 0
        var acksAccepted = 0
        var kinds: [String: Int] = [:]
        var semanticErrors: [String: Int] = [:]
        var syntaxErrors: [String: Int] = [:]
        var failure: String? = nil

        mutating func merge(_ other: Stats) {
            cases += other.cases
            valid += other.valid
            invalid += other.invalid
            excluded += other.excluded
            mutated += other.mutated
            depthExceeded += other.depthExceeded
            invalidStoppedAtDepth += other.invalidStoppedAtDepth
            janssonAcceptedNUL += other.janssonAcceptedNUL
            smallDepthLimit += other.smallDepthLimit
            acksAccepted += other.acksAccepted
            kinds.merge(other.kinds, uniquingKeysWith: +)
            semanticErrors.merge(other.semanticErrors, uniquingKeysWith: +)
            syntaxErrors.merge(other.syntaxErrors, uniquingKeysWith: +)
            if failure == nil { failure = other.failure }
        }
    }

    static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    @Test("scanner and jansson agree on validity, outcome and every extracted value")
    func scannerAgreesWithJansson() async throws {
        let seed = Self.environment("SOCKEYE_DIFF_SEED").flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64(UInt32.max))
        let cases = Self.environment("SOCKEYE_DIFF_CASES").flatMap { Int($0) } ?? 100_000
        print("differential: seed \(seed) (replay with SOCKEYE_DIFF_SEED=\(seed)), \(cases) cases")
        let stats = await withTaskGroup(of: Stats.self) { group in
            for shard in 0..<Self.shards {
                let count = cases / Self.shards + (shard < cases % Self.shards ? 1 : 0)
                group.addTask { Self.run(seed: seed, shard: shard, cases: count) }
            }
            var total = Stats()
            for await shardStats in group { total.merge(shardStats) }
            return total
        }
        func list(_ counts: [String: Int]) -> String {
            counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        print(
            """
            differential summary: seed \(seed): \(stats.cases) cases, \(stats.mutated) mutated, \
            \(stats.smallDepthLimit) with maxDepth 1...6; \
            jansson valid \(stats.valid) (of which deeper than the limit \(stats.depthExceeded)), invalid \(stats.invalid) \
            (scanner stopped at depth limit first: \(stats.invalidStoppedAtDepth)), \
            excluded by jansson limitation \(stats.excluded), \
            raw NUL accepted by jansson but refused by the scanner \(stats.janssonAcceptedNUL); \
            \(stats.failure == nil ? "all agree" : "DISAGREEMENT")
              accepted kinds: \(list(stats.kinds)); AckScanner compared on the same frames, \(stats.acksAccepted) read as acks
              semantic errors: \(list(stats.semanticErrors))
              syntax errors: \(list(stats.syntaxErrors))
            """)
        #expect(stats.cases == cases)
        #expect(stats.valid > 0 && stats.invalid > 0)
        if let failure = stats.failure {
            Issue.record("scanner and jansson disagree (seed \(seed)):\n\(failure)")
        }
    }

    static func run(seed: UInt64, shard: Int, cases: Int) -> Stats {
        let shardSeed = seed &+ UInt64(shard) &* 0x5851_F42D_4C95_7F2D
        var generator = FrameGenerator(rng: SeededGenerator(seed: shardSeed))
        var mutator = FrameMutator(rng: SeededGenerator(seed: ~shardSeed))
        var stats = Stats()
        for index in 0..<cases {
            var (shape, frame) = generator.frame()
            var mutations: [FrameMutator.Mutation] = []
            if mutator.rng.chance(55) {
                for _ in 0..<(1 + mutator.rng.below(3)) { mutations.append(mutator.mutate(&frame)) }
                stats.mutated += 1
            }
            stats.cases += 1
            // Mostly the default limits; sometimes a small depth limit, so that the depth of
            // every nested field the scanner walks (connection_info, payload.event, …) is
            // checked against the limit too.
            var options = ScanOptions.default
            if mutator.rng.chance(15) {
                options = ScanOptions(maxFrameSize: options.maxFrameSize, maxDepth: 1 + mutator.rng.below(6))
                stats.smallDepthLimit += 1
            }
            if let problem = check(frame, options: options, stats: &stats) {
                stats.failure = """
                    shard \(shard) case \(index), shape \(shape.rawValue), mutations \(mutations.map(\.rawValue)), maxDepth \(options.maxDepth)
                    \(problem)
                    input (\(frame.count) bytes) hex: \(hex(frame))
                    input escaped: \(escaped(frame))
                    """
                break
            }
        }
        return stats
    }

    /// Compares the scanner with jansson on one frame; a description of the disagreement, or nil.
    static func check(_ frame: [UInt8], options: ScanOptions, stats: inout Stats) -> String? {
        let result: Result<Envelope, ScanError> = frame.withUnsafeBytes { buffer in
            do throws(ScanError) {
                return .success(try EnvelopeScanner.scan(buffer, options: options))
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result, error.kind.isSyntax {
            stats.syntaxErrors[error.kind.name, default: 0] += 1
        }
        let ackResult: Result<AckFrame, ScanError> = frame.withUnsafeBytes { buffer in
            do throws(ScanError) {
                return .success(try AckScanner.scan(buffer, options: options))
            } catch {
                return .failure(error)
            }
        }
        return JanssonOracle.withVerdict(frame, maxDepth: options.maxDepth) { verdict -> String? in
            switch verdict {
            case .limitation:
                stats.excluded += 1
                return nil
            case .invalid(let text):
                stats.invalid += 1
                // The ack scanner validates with the same cursor: it must refuse too.
                switch ackResult {
                case .failure(let error) where error.kind.isSyntax || error.kind == .depthExceeded: break
                default: return "jansson: invalid (\(text)); ack scanner: \(ackResult)"
                }
                switch result {
                case .failure(let error) where error.kind.isSyntax:
                    return nil
                case .failure(let error) where error.kind == .depthExceeded:
                    // The scanner stops at depth 129, before the later syntax error jansson saw.
                    stats.invalidStoppedAtDepth += 1
                    return nil
                default:
                    return "jansson: invalid (\(text)); scanner: \(describe(result))"
                }
            case .valid where frame.contains(0):
                if case .success = ackResult { return "jansson accepted a raw NUL byte; so did the ack scanner" }
                // A raw NUL byte is never valid JSON (not whitespace; a control character
                // inside strings), but jansson's lexer takes it for the end of input after a
                // number or literal (`-1\0`, `{"a":true\0}` load). The scanner must refuse it.
                stats.janssonAcceptedNUL += 1
                if case .failure(let error) = result, error.kind.isSyntax { return nil }
                // Nested past the depth limit before the NUL: the scanner stops there first.
                if case .failure(let error) = result, error.kind == .depthExceeded,
                    let nul = frame.firstIndex(of: 0), error.offset < nul
                {
                    return nil
                }
                return "jansson: accepted a raw NUL byte (a jansson quirk); scanner: \(describe(result)), expected a syntax error"
            case .valid(let expected, let ack):
                stats.valid += 1
                return compare(result, expected, frame: frame, stats: &stats)
                    ?? compareAck(frame, options: options, ack, stats: &stats)
            }
        }
    }

    static func compare(
        _ result: Result<Envelope, ScanError>, _ expected: JanssonOracle.Expected, frame: [UInt8], stats: inout Stats
    ) -> String? {
        switch (result, expected) {
        case (.failure(let error), .error(let kind)):
            if kind == .depthExceeded { stats.depthExceeded += 1 } else { stats.semanticErrors[kind.name, default: 0] += 1 }
            return error.kind == kind ? nil : "jansson: valid, expected \(kind.name); scanner: \(error)"
        case (.failure(let error), .envelope(let envelope)):
            return "jansson: valid, expected success (\(envelope.kind)); scanner: \(error)"
        case (.success(let envelope), .error(let kind)):
            return "jansson: valid, expected \(kind.name); scanner: success (\(envelope.kind))"
        case (.success(let envelope), .envelope(let want)):
            stats.kinds["\(envelope.kind)", default: 0] += 1
            return frame.withUnsafeBytes { buffer in fieldDifferences(envelope, want, buffer) }
        }
    }

    /// `AckScanner` on the same frame against jansson's tree.
    static func compareAck(
        _ frame: [UInt8], options: ScanOptions, _ expected: JanssonOracle.ExpectedAck, stats: inout Stats
    ) -> String? {
        if case .ack = expected { stats.acksAccepted += 1 }
        return frame.withUnsafeBytes { buffer in
            let result: Result<AckFrame, ScanError>
            do throws(ScanError) {
                result = .success(try AckScanner.scan(buffer, options: options))
            } catch {
                result = .failure(error)
            }
            switch (result, expected) {
            case (.failure(let error), .error(let kind)):
                return error.kind == kind ? nil : "ack scanner: jansson expects \(kind.name), ack scanner \(error)"
            case (.failure(let error), .ack):
                return "ack scanner: jansson expects an ack, ack scanner \(error)"
            case (.success, .error(let kind)):
                return "ack scanner: jansson expects \(kind.name), ack scanner succeeded"
            case (.success(let ack), .ack(let id, let payload)):
                if decoded(ack.envelopeID, buffer) != id {
                    return "ack envelope_id: jansson \(escaped(id)), ack scanner \(decoded(ack.envelopeID, buffer).map(escaped) ?? "absent")"
                }
                switch (ack.payload.isPresent, payload) {
                case (false, nil): return nil
                case (true, let node?):
                    return JanssonOracle.payloadMatches(ack.payload.bytes(in: buffer), node) ? nil : "ack payload differs from jansson's"
                case (let present, _):
                    return "ack payload: jansson \(payload == nil ? "absent" : "present"), ack scanner \(present ? "present" : "absent")"
                }
            }
        }
    }

    /// The first field on which the scanner's envelope differs from jansson's tree.
    static func fieldDifferences(
        _ envelope: Envelope, _ want: JanssonOracle.ExpectedEnvelope, _ buffer: UnsafeRawBufferPointer
    ) -> String? {
        if envelope.kind != want.kind { return "kind: jansson \(want.kind), scanner \(envelope.kind)" }
        let views: [String: ByteView] = [
            "type": envelope.type, "envelope_id": envelope.envelopeID, "retry_reason": envelope.retryReason,
            "event_id": envelope.eventID, "team_id": envelope.teamID, "payload_type": envelope.payloadType,
            "event_type": envelope.eventType, "reason": envelope.reason, "app_id": envelope.appID,
            "debug_host": envelope.debugHost,
        ]
        for (name, value) in want.strings {
            let view = views[name]!
            let got = decoded(view, buffer)
            if got != value {
                return "\(name): jansson \(value.map(escaped) ?? "absent"), scanner \(got.map(escaped) ?? "absent")"
            }
        }
        if envelope.acceptsResponsePayload != want.acceptsResponsePayload {
            return "accepts_response_payload: jansson \(String(describing: want.acceptsResponsePayload)), scanner \(String(describing: envelope.acceptsResponsePayload))"
        }
        let integers: [String: Int64?] = [
            "retry_attempt": envelope.retryAttempt, "num_connections": envelope.numConnections,
            "build_number": envelope.buildNumber, "approximate_connection_time": envelope.approximateConnectionTime,
        ]
        for (name, value) in want.integers where integers[name]! != value {
            return "\(name): jansson \(String(describing: value)), scanner \(String(describing: integers[name]!))"
        }
        if envelope.disconnectReason != want.disconnectReason {
            return "disconnect reason: jansson \(want.disconnectReason), scanner \(envelope.disconnectReason)"
        }
        switch (envelope.payload.isPresent, want.payload) {
        case (false, nil): break
        case (true, let node?):
            if !JanssonOracle.payloadMatches(envelope.payload.bytes(in: buffer), node) {
                return "payload: scanner's view \(escaped(Array(envelope.payload.bytes(in: buffer)))) differs from jansson's payload"
            }
        case (let present, _):
            return "payload: jansson \(want.payload == nil ? "absent" : "present"), scanner \(present ? "present" : "absent")"
        }
        if want.mismatch && !envelope.flags.contains(.fieldTypeMismatch) {
            return "fieldTypeMismatch: jansson sees a wrong-typed field, scanner did not flag it"
        }
        // Without duplicates of recognised members, jansson's tree shows every occurrence the
        // scanner saw, so the flag must be exactly jansson's verdict.
        if !envelope.flags.contains(.duplicateKey) && !want.mismatch && envelope.flags.contains(.fieldTypeMismatch) {
            return "fieldTypeMismatch: scanner flagged a wrong-typed field, jansson sees none (and no duplicates)"
        }
        return nil
    }

    /// A string view decoded with `JSONStringDecoder`, or nil when absent.
    static func decoded(_ view: ByteView, _ buffer: UnsafeRawBufferPointer) -> [UInt8]? {
        guard view.isPresent else { return nil }
        let raw = view.bytes(in: buffer)
        var output = [UInt8](repeating: 0, count: raw.count)
        let length = output.withUnsafeMutableBytes { JSONStringDecoder.decode(raw, into: $0) }
        guard let length else { return Array("<decoder overflow>".utf8) }
        return Array(output[0..<length])
    }

    static func describe(_ result: Result<Envelope, ScanError>) -> String {
        switch result {
        case .success(let envelope): "success (\(envelope.kind))"
        case .failure(let error): "\(error)"
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    /// Printable ASCII as is, everything else as `\xNN`.
    static func escaped(_ bytes: [UInt8]) -> String {
        var s = "\""
        for b in bytes {
            if b >= 0x20 && b < 0x7F && b != 0x5C {
                s.append(Character(Unicode.Scalar(b)))
            } else {
                s += "\\x" + hex([b])
            }
        }
        return s + "\""
    }
}
