// scanner-bench: the Sockeye envelope scanner against jansson, simdjson (on-demand and DOM)
// and Foundation's JSONSerialization, on committed Socket Mode envelopes of four sizes.
// See benchmarks/README.md for what is measured and how to read the tables.
import CJansson
import CMallocCounter
import Foundation

struct Arguments {
    var smoke = false
    var jsonPath: String?
    var fixtureDirectory: String?
    var rounds: Int?
    var roundSeconds: Double?
    var only: String?

    static let usage = """
        usage: scanner-bench [--smoke] [--json PATH] [--fixtures DIR] [--rounds N] [--round-seconds S] [--only NAME]
          --smoke            quick run for CI (well under a minute); figures are rough
          --json PATH        also write the results as JSON to PATH
          --fixtures DIR     envelope fixtures (default: benchmarks/fixtures)
          --rounds N         timed rounds per parser and fixture; the best is reported
          --round-seconds S  target length of one round
          --only NAME        time only the parsers whose name contains NAME (e.g. for a
                             profiler); the agreement check still runs them all
        """

    init(_ arguments: [String]) throws(BenchmarkFailure) {
        var iterator = arguments.makeIterator()
        func value(_ option: String) throws(BenchmarkFailure) -> String {
            guard let value = iterator.next() else { throw BenchmarkFailure("\(option) needs a value") }
            return value
        }
        while let argument = iterator.next() {
            switch argument {
            case "--smoke": smoke = true
            case "--json": jsonPath = try value(argument)
            case "--fixtures": fixtureDirectory = try value(argument)
            case "--rounds":
                guard let count = Int(try value(argument)), count > 0 else {
                    throw BenchmarkFailure("--rounds needs a positive integer")
                }
                rounds = count
            case "--round-seconds":
                guard let seconds = Double(try value(argument)), seconds > 0 else {
                    throw BenchmarkFailure("--round-seconds needs a positive number")
                }
                roundSeconds = seconds
            case "--only": only = try value(argument)
            case "-h", "--help":
                print(Self.usage)
                exit(0)
            default:
                throw BenchmarkFailure("unknown argument \(argument)\n\(Self.usage)")
            }
        }
    }

    var settings: MeasurementSettings {
        var settings = smoke ? MeasurementSettings.smoke : .standard
        if let rounds { settings.rounds = rounds }
        if let roundSeconds { settings.roundSeconds = roundSeconds }
        return settings
    }
}

/// A fixture file, loaded into a padded buffer.
struct Fixture {
    let name: String
    let buffer: PaddedBuffer

    /// Every `*.json` in the directory, smallest first.
    static func load(from directory: String?) throws(BenchmarkFailure) -> [Fixture] {
        let fileManager = FileManager.default
        let candidates = directory.map { [$0] } ?? [
            "benchmarks/fixtures",
            // Next to this source file, so `swift run` works from any directory of the checkout.
            URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("fixtures").path,
        ]
        guard let found = candidates.first(where: { fileManager.fileExists(atPath: $0) }) else {
            throw BenchmarkFailure("no fixture directory (tried \(candidates)); pass --fixtures DIR")
        }
        let names: [String]
        do {
            names = try fileManager.contentsOfDirectory(atPath: found).filter { $0.hasSuffix(".json") }
        } catch {
            throw BenchmarkFailure("cannot list \(found): \(error)")
        }
        var fixtures = [Fixture]()
        for name in names {
            guard let data = fileManager.contents(atPath: found + "/" + name) else {
                throw BenchmarkFailure("cannot read \(found)/\(name)")
            }
            fixtures.append(Fixture(
                name: name, buffer: PaddedBuffer(Array(data), padding: SimdjsonParsers.padding)))
        }
        guard !fixtures.isEmpty else { throw BenchmarkFailure("no *.json fixtures in \(found)") }
        return fixtures.sorted { ($0.buffer.count, $0.name) < ($1.buffer.count, $1.name) }
    }
}

/// Fails unless every parser extracted the same values from the fixture; returns a one-line
/// description of them.
func checkAgreement(_ competitors: [Competitor], on fixture: Fixture) throws(BenchmarkFailure) -> String {
    var results = [(name: String, fields: ExtractedFields)]()
    for competitor in competitors {
        do {
            results.append((competitor.name, try competitor.extract(fixture.buffer)))
        } catch {
            throw BenchmarkFailure("\(fixture.name): \(competitor.name) failed: \(error)")
        }
    }
    let reference = results[0]
    for result in results.dropFirst() {
        for (mine, theirs) in zip(reference.fields.scalarFields, result.fields.scalarFields)
        where mine.value != theirs.value {
            throw BenchmarkFailure("""
                \(fixture.name): parsers disagree on \(mine.name): \
                \(reference.name) says \(mine.value), \(result.name) says \(theirs.value)
                """)
        }
    }
    var rawPayloads = [(name: String, bytes: [UInt8])]()
    for result in results {
        switch result.fields.payload {
        case .absent:
            throw BenchmarkFailure("\(fixture.name): \(result.name) found no payload object")
        case .object:
            break
        case .raw(let bytes):
            rawPayloads.append((result.name, bytes))
            do {
                try JanssonCompetitor.checkRawPayload(bytes, envelope: fixture.buffer)
            } catch {
                throw BenchmarkFailure("\(fixture.name): \(result.name): \(error)")
            }
        }
    }
    if let first = rawPayloads.first, let other = rawPayloads.first(where: { $0.bytes != first.bytes }) {
        throw BenchmarkFailure("""
            \(fixture.name): payload bytes differ: \(first.name) \(first.bytes.count) B, \
            \(other.name) \(other.bytes.count) B
            """)
    }
    let fields = reference.fields
    func show(_ value: String?) -> String { value.map { $0.isEmpty ? "\"\"" : $0 } ?? "-" }
    return [
        show(fields.type), show(fields.payloadType), show(fields.eventType),
        "retry \(fields.retryAttempt.map { String($0) } ?? "-")/\(show(fields.retryReason))",
        "accepts_response_payload \(fields.acceptsResponsePayload.map { String($0) } ?? "-")",
    ].joined(separator: ", ")
}

/// The interposer must see allocations made inside shared libraries, or every allocs/env
/// figure would be a silent zero: make jansson allocate and look.
func checkAllocationCounter() throws(BenchmarkFailure) {
    let before = sockeye_bench_allocation_count()
    var error = json_error_t()
    let value = json_loadb("{\"a\":[1]}", 9, 0, &error)
    let after = sockeye_bench_allocation_count()
    if let value { sockeye_json_decref(value) }
    guard after > before else {
        throw BenchmarkFailure("the malloc interposer does not see jansson's allocations")
    }
}

func runBenchmark() throws(BenchmarkFailure) {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()))
    let settings = arguments.settings
    try checkAllocationCounter()
    let fixtures = try Fixture.load(from: arguments.fixtureDirectory)
    let simdjson = SimdjsonParsers()
    let competitors = [ScannerCompetitor.competitor] + simdjson.competitors + [
        JanssonCompetitor.competitor, FoundationCompetitor.competitor,
    ]

    print("""
        scanner-bench: \(arguments.smoke ? "smoke" : "full") run, best of \(settings.rounds) rounds \
        of ~\(settings.roundSeconds) s per parser and fixture
        simdjson: stage 1 \(SimdjsonParsers.implementation), on-demand code \
        \(SimdjsonParsers.builtinImplementation); allocation counter: interposed malloc family
        """)
    #if DEBUG
    print("  WARNING: debug build; the figures mean nothing. Use `swift run -c release scanner-bench`.")
    #endif
    for competitor in competitors {
        print("  \(competitor.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(competitor.detail)")
    }

    var reports = [FixtureReport]()
    for fixture in fixtures {
        let summary = try checkAgreement(competitors, on: fixture)
        let timed = arguments.only.map { name in competitors.filter { $0.name.contains(name) } } ?? competitors
        let cells = Measurement.measure(timed, on: fixture.buffer, settings: settings)
        let report = FixtureReport(
            name: fixture.name, bytes: fixture.buffer.count, summary: summary, cells: cells)
        print(Report.fixtureTable(report))
        fflush(nil)  // one table at a time in CI logs, even through a pipe
        reports.append(report)
    }
    print(Report.targetsTable(reports))
    print("""

        ns/env, MB/s (10^6 B/s), envelopes/s: best round. allocs/env: over all timed rounds. \
        scanner ×: scanner speed ÷ this parser's. spread: median round vs best.
        """)

    if let path = arguments.jsonPath {
        do {
            try JSONResult(
                mode: arguments.smoke ? "smoke" : "full", settings: settings, reports: reports,
                competitors: competitors
            ).write(to: path)
        } catch {
            throw BenchmarkFailure("cannot write \(path): \(error)")
        }
        print("wrote \(path)")
    }
}

do {
    try runBenchmark()
} catch {
    FileHandle.standardError.write(Data("scanner-bench: FAILED: \(error)\n".utf8))
    exit(1)
}
