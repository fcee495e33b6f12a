// core-path-bench's authorization section: what finding an event's installation costs per
// event for an app installed by OAuth 1 000 times (benchmarks/README.md, "authorization").
//
// Every event's time is taken alone with CLOCK_MONOTONIC (vDSO) and the percentiles come
// from those times; the first round of each phase warms up and is not counted. Rows:
//   - EventRecord.init without an authorizer and with the InstallationDirectory, timed in
//     pairs on the same event (the order alternates), so the increment is visible;
//   - the lookup alone: InstallationDirectory.authorize(tenant), and the bare
//     AuthorizationIndex (no lock) beside it;
//   - references: PayloadFields.read (the one pass that also reads the tenant) and two
//     back-to-back clock reads (what every timed row carries on top);
//   - what a replacement costs the thread that makes it: building the index,
//     InstallationDirectory.replace, and releasing an old index (replace() does that while
//     holding the lock every lookup takes);
//   - the same record and lookup rows while another thread replaces the directory's index
//     every millisecond (an install or a token rotation each time), with a count of events
//     over 10 µs to compare with the rows that take no lock.
// Before anything is timed every event's record must name the installation it was made for
// (and unknown teams none); a wrong one ends the run with status 1. Timings never do.
import CMallocCounter
import Foundation
import SockeyeCore
import SockeyeInstallations
import SockeyeSinkKit
import Synchronization

/// CLOCK_MONOTONIC in nanoseconds (a vDSO call, no system call, on Linux with a TSC clock).
@inline(__always) func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}

/// Percentiles of per-event times.
struct LatencySummary {
    var count = 0
    var p50 = 0.0, p99 = 0.0, p999 = 0.0, max = 0.0, mean = 0.0
    /// Samples over 10 µs (a thread preempted, a lock waited for, a page fault).
    var over10 = 0

    init(_ samples: [UInt64]) {
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        func at(_ q: Double) -> Double {
            Double(sorted[Swift.min(sorted.count - 1, Swift.max(0, Int((Double(sorted.count) * q).rounded(.up)) - 1))])
        }
        count = sorted.count
        p50 = at(0.50)
        p99 = at(0.99)
        p999 = at(0.999)
        max = Double(sorted[sorted.count - 1])
        mean = Double(sorted.reduce(0, +)) / Double(sorted.count)
        over10 = sorted.count - (sorted.firstIndex { $0 > 10_000 } ?? sorted.count)
    }
}

/// Replaces a directory's index every millisecond on its own thread, as an install, a
/// revocation or a token rotation does in the daemon (`AppInstallations.refresh`).
final class DirectoryReplacer: Sendable {
    struct Report {
        var replacements = 0
        var totalNanoseconds: UInt64 = 0
        var maxNanoseconds: UInt64 = 0
    }

    private let stopFlag = Atomic<Bool>(false)
    private let report = Mutex(Report())
    private let done = DispatchSemaphore(value: 0)

    func start(_ directory: InstallationDirectory, fleet: AuthorizationFleet) {
        Thread.detachNewThread { [self] in
            var local = Report()
            var tick = 0
            var deadline = monotonicNanoseconds() + 1_000_000
            while !stopFlag.load(ordering: .relaxed) {
                // What the store's read gives (built off the clock: the daemon reads SQLite first).
                let installations = fleet.changed(tick: tick)
                let start = monotonicNanoseconds()
                directory.replace(with: installations)
                let took = monotonicNanoseconds() - start
                local.replacements += 1
                local.totalNanoseconds += took
                local.maxNanoseconds = Swift.max(local.maxNanoseconds, took)
                tick += 1
                var wake = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &wake, nil) == EINTR {}
                deadline += 1_000_000
                let now = monotonicNanoseconds()
                if deadline < now { deadline = now + 1_000_000 }  // late: no burst to catch up
            }
            report.withLock { $0 = local }
            done.signal()
        }
    }

    func stop() -> Report {
        stopFlag.store(true, ordering: .relaxed)
        done.wait()
        return report.withLock { $0 }
    }
}

enum AuthorizationBenchmark {
    struct Options {
        var events = 20_000
        var rounds = 8
        /// The phase under replacement lasts at least this long (rounds are added).
        var replacedSeconds = 3.0
        var smoke = false
    }

    static let target = 50_000.0  // nanoseconds: the p99 per event the row promises
    static let app = "oauth-app"
    static let receivedAt = "2026-12-06T13:09:14.123Z"

    /// Runs the section and prints its table; false when a record or lookup was wrong.
    static func run(_ options: Options) -> Bool {
        let loadBefore = loadAverage()
        let fleet = AuthorizationFleet()
        let events = AuthorizationEvent.make(fleet, count: options.events, seed: 0x5EED_A17)
        let directory = InstallationDirectory(fleet.installations)
        let bareIndex = AuthorizationIndex(fleet.installations)
        guard directory.count == 1_000 else { return fail("the directory holds \(directory.count) installations, not 1 000") }

        // Correctness first (untimed): every payload is JSON, every record finds its
        // installation, the line carries it; allocations counted per variant.
        var tenants: [EventTenant] = []
        tenants.reserveCapacity(events.count)
        var grewWith = 0, grewWithout = 0
        for event in events {
            guard (try? JSONSerialization.jsonObject(with: Data(event.payload))) != nil else {
                return fail("a \(event.shape.rawValue) payload is not JSON")
            }
            let (with, without) = event.payload.withUnsafeBytes { payload in
                (record(event, payload, directory), record(event, payload, nil))
            }
            guard with.authorization?.installationID == event.expected,
                  bareIndex.authorize(with.tenant)?.installationID == event.expected else {
                return fail("a \(event.shape.rawValue) event for \(event.expected ?? "no installation") was authorized as "
                    + "\(with.authorization?.installationID ?? "none") (tenant \(with.tenant))")
            }
            let field = Array(("\"installation\":" + (event.expected.map { "\"\($0)\"" } ?? "null") + ",").utf8)
            guard contains(with.line, field), !contains(without.line, Array("\"installation\":".utf8)),
                  without.tenant == with.tenant else {
                return fail("the line of a \(event.shape.rawValue) event does not carry its installation as expected")
            }
            // EventRecord reserves the payload + 320 + the app name's bytes for its line; a line
            // that outgrows it is reallocated (capacity doubled) and copied once.
            let reserved = event.payload.count + 320 + app.utf8.count
            if with.line.capacity >= reserved * 3 / 2 { grewWith += 1 }
            if without.line.capacity >= reserved * 3 / 2 { grewWithout += 1 }
            tenants.append(with.tenant)
        }
        let allocationsWithout = allocationsPerEvent(events) { event, payload in _ = record(event, payload, nil) }
        let allocationsWith = allocationsPerEvent(events) { event, payload in _ = record(event, payload, directory) }
        let allocationsLookup = allocationsPerTenant(tenants) { _ = directory.authorize($0) }

        // Steady: nothing changes the directory.
        var steady = Phase(events: events.count, rounds: options.rounds)
        for round in 0...options.rounds {
            let counted = round > 0
            guard pairedRecords(events, directory, round: round, into: &steady, counted: counted),
                  lookups(tenants, events, directory, into: &steady.lookup, counted: counted),
                  bareLookups(tenants, events, bareIndex, into: &steady.bareLookup, counted: counted) else {
                return fail("a timed record or lookup found the wrong installation")
            }
            payloadReads(events, into: &steady.payloadRead, counted: counted)
            clockReads(events.count, into: &steady.clock, counted: counted)
        }
        let batched = batchedLookup(tenants, directory, rounds: options.rounds)
        // What a replacement costs the thread that makes it (median of several).
        let builds = (0..<(options.smoke ? 20 : 200)).map { tick in
            let installations = fleet.changed(tick: tick)
            let start = monotonicNanoseconds()
            let index = AuthorizationIndex(installations)
            let took = monotonicNanoseconds() - start
            withExtendedLifetime(index) {}
            return took
        }
        let replaces = (0..<(options.smoke ? 20 : 200)).map { tick in
            let installations = fleet.changed(tick: tick)
            let start = monotonicNanoseconds()
            directory.replace(with: installations)
            return monotonicNanoseconds() - start
        }
        directory.replace(with: fleet.installations)
        // InstallationDirectory.replace assigns the new index inside its lock, so the old one
        // is released there: how long that release takes is how long a lookup may wait.
        let releases = (0..<(options.smoke ? 20 : 200)).map { tick in
            let index = AuthorizationIndex(fleet.changed(tick: tick))
            let start = monotonicNanoseconds()
            release(index)
            return monotonicNanoseconds() - start
        }

        // Under replacement: another thread replaces the index every millisecond.
        guard let replaced = replacedPhase(directory, fleet, events, tenants, options) else {
            return fail("a record or lookup found the wrong installation while the directory was replaced")
        }
        let loadAfter = loadAverage()

        // The table.
        let shapes = AuthorizationEvent.Shape.allCases.map { shape in
            "\(events.filter { $0.shape == shape }.count * 100 / events.count) % \(shape.rawValue)"
        }.joined(separator: ", ")
        let unknown = events.filter { $0.expected == nil }.count
        let orgWide = events.filter { $0.expected?.hasPrefix("E") == true }.count
        let meanBytes = events.reduce(0) { $0 + $1.payload.count } / events.count
        print("")
        print("authorization: one app installed 1 000 times (\(AuthorizationFleet.workspaceInstalls) workspace installs, "
            + "\(AuthorizationFleet.orgWideInstalls) org-wide covering \(fleet.orgTeamsCovered) teams)")
        print("  \(events.count) distinct events (\(shapes); payloads \(meanBytes) B on average), "
            + String(format: "%.1f %% from teams with no installation, %.1f %% for org-wide installs", Double(unknown) * 100 / Double(events.count),
                     Double(orgWide) * 100 / Double(events.count)))
        print("  per-event times (CLOCK_MONOTONIC around each call), \(options.rounds) rounds after 1 warm-up round (\(steady.with.count) samples a row); "
            + "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadBefore) before, \(loadAfter) after")
        #if DEBUG
        print("  a debug build: these figures mean nothing (swift run -c release core-path-bench)")
        #endif
        print("")
        print("row                                                    p50 µs    p99 µs  p99.9 µs    max µs   mean µs   >10 µs  allocs/event")
        func row(_ name: String, _ s: LatencySummary, allocations: Double? = nil) {
            let allocs = allocations.map { String(format: "%14.2f", $0) } ?? ""
            print(name.padding(toLength: 52, withPad: " ", startingAt: 0)
                + String(format: "%9.3f %9.3f %9.3f %9.2f %9.3f %8d", s.p50 / 1e3, s.p99 / 1e3, s.p999 / 1e3, s.max / 1e3, s.mean / 1e3, s.over10)
                + allocs)
        }
        func increment(_ name: String, _ with: LatencySummary, _ without: LatencySummary, allocations: Double? = nil) {
            let allocs = allocations.map { String(format: "%+14.2f", $0) } ?? ""
            print(name.padding(toLength: 52, withPad: " ", startingAt: 0)
                + String(format: "%+9.3f %+9.3f %+9.3f           %+9.3f         ", (with.p50 - without.p50) / 1e3, (with.p99 - without.p99) / 1e3,
                         (with.p999 - without.p999) / 1e3, (with.mean - without.mean) / 1e3) + allocs)
        }
        let s = steady.summaries()
        let r = replaced.phase.summaries()
        print("steady directory")
        row("  EventRecord.init, no authorizer", s.without, allocations: allocationsWithout)
        row("  EventRecord.init, InstallationDirectory", s.with, allocations: allocationsWith)
        increment("    authorization's increment (with − without)", s.with, s.without, allocations: allocationsWith - allocationsWithout)
        row("  lookup alone: InstallationDirectory.authorize", s.lookup, allocations: allocationsLookup)
        row("  lookup alone: AuthorizationIndex (no lock)", s.bareLookup)
        row("  reference: PayloadFields.read (reads the tenant)", s.payloadRead)
        row("  reference: two clock reads (in every row)", s.clock)
        print(String(format: "  lookup in a tight loop (no per-event clock): %.1f ns/event", batched))
        print(String(format: "  replacing the index (this thread, nothing else running): AuthorizationIndex(1 001 installations) %.0f µs, "
                + "InstallationDirectory.replace %.0f µs (medians)", LatencySummary(builds).p50 / 1e3, LatencySummary(replaces).p50 / 1e3))
        print(String(format: "  releasing an old index of 1 000 (replace() does it after releasing the lock lookups take): %.1f µs median, %.1f µs max",
                     LatencySummary(releases).p50 / 1e3, LatencySummary(releases).max / 1e3))
        func replacedHeader(_ title: String, _ phase: ReplacedPhase) {
            let report = phase.report
            print(title + String(format: ": %d replacements in %.1f s (%d rounds counted), replace() %.0f µs mean, %.0f µs max",
                                 report.replacements, phase.seconds, phase.rounds,
                                 Double(report.totalNanoseconds) / Double(Swift.max(1, report.replacements)) / 1e3,
                                 Double(report.maxNanoseconds) / 1e3))
        }
        replacedHeader("index replaced every 1 ms by another thread", replaced)
        row("  EventRecord.init, no authorizer", r.without)
        row("  EventRecord.init, InstallationDirectory", r.with)
        increment("    authorization's increment (with − without)", r.with, r.without)
        row("  lookup alone: InstallationDirectory.authorize", r.lookup)
        row("  reference: two clock reads (in every row)", r.clock)
        print("")
        print(String(format: "ratios: record with ÷ without  p50 %.3f×  p99 %.3f× (steady), p50 %.3f×  p99 %.3f× (replaced); "
                + "lookup ÷ record p50 %.1f %%", s.with.p50 / s.without.p50, s.with.p99 / s.without.p99,
                     r.with.p50 / r.without.p50, r.with.p99 / r.without.p99, s.lookup.p50 / s.with.p50 * 100))
        print(String(format: "        replaced ÷ steady  lookup p50 %.2f×  p99 %.2f×, record with authorizer p50 %.2f×  p99 %.2f×",
                     r.lookup.p50 / s.lookup.p50, r.lookup.p99 / s.lookup.p99, r.with.p50 / s.with.p50, r.with.p99 / s.with.p99))
        print("stalls (> 10 µs) while replaced: \(r.with.over10) records with the authorizer, \(r.without.over10) without, "
            + "\(r.lookup.over10) lookups alone, \(r.clock.over10) clock reads, over \(replaced.report.replacements) replacements"
            + String(format: " (records with − without: %.2f per replacement)",
                     Double(r.with.over10 - r.without.over10) / Double(Swift.max(1, replaced.report.replacements))))
        print("lines that outgrew the capacity EventRecord reserves (reallocated and copied once): \(grewWith) of \(events.count) "
            + "with the authorizer, \(grewWithout) without")
        // Judged on the worst p99 among the rows that contain authorization: the whole record
        // with the authorizer is an upper bound of what authorization costs.
        let judged = [s.with.p99, r.with.p99, s.lookup.p99, r.lookup.p99].max() ?? 0
        let lookupWorst = Swift.max(s.lookup.p99, r.lookup.p99)
        print((judged < target ? "PASS" : "FAIL")
            + String(format: ": authorization < 50 µs p99 per event with 1 000 installations: worst p99 of the rows with it %.2f µs "
                + "(the whole EventRecord with the authorizer, %.0f× under the target; the lookup alone %.3f µs, %.0f× under)",
                     judged / 1e3, target / judged, lookupWorst / 1e3, target / lookupWorst))
        return true
    }

    // MARK: - Timed loops

    struct ReplacedPhase {
        var phase: Phase
        var report: DirectoryReplacer.Report
        var seconds: Double
        var rounds: Int
    }

    /// Records and lookups while another thread replaces `directory`'s index every
    /// millisecond: at least `options.rounds` rounds after a warm-up, and at least
    /// `options.replacedSeconds`. Nil when a record or lookup was wrong.
    static func replacedPhase(_ directory: InstallationDirectory, _ fleet: AuthorizationFleet, _ events: [AuthorizationEvent],
                              _ tenants: [EventTenant], _ options: Options) -> ReplacedPhase? {
        var phase = Phase(events: events.count, rounds: options.rounds)
        let replacer = DirectoryReplacer()
        replacer.start(directory, fleet: fleet)
        let start = monotonicNanoseconds()
        var round = 0
        var right = true
        while round <= options.rounds || Double(monotonicNanoseconds() - start) < options.replacedSeconds * 1e9 {
            let counted = round > 0
            right = pairedRecords(events, directory, round: round, into: &phase, counted: counted)
                && lookups(tenants, events, directory, into: &phase.lookup, counted: counted)
            if !right { break }
            clockReads(events.count, into: &phase.clock, counted: counted)
            round += 1
        }
        let seconds = Double(monotonicNanoseconds() - start) / 1e9
        let report = replacer.stop()
        return right ? ReplacedPhase(phase: phase, report: report, seconds: seconds, rounds: round - 1) : nil
    }

    /// Per-event times of one phase.
    struct Phase {
        var without: [UInt64] = [], with: [UInt64] = [], lookup: [UInt64] = [], bareLookup: [UInt64] = []
        var payloadRead: [UInt64] = [], clock: [UInt64] = []

        init(events: Int, rounds: Int) {
            for keyPath in [\Phase.without, \.with, \.lookup, \.bareLookup, \.payloadRead, \.clock] {
                self[keyPath: keyPath].reserveCapacity(events * rounds)
            }
        }

        func summaries() -> (without: LatencySummary, with: LatencySummary, lookup: LatencySummary,
                             bareLookup: LatencySummary, payloadRead: LatencySummary, clock: LatencySummary) {
            (LatencySummary(without), LatencySummary(with), LatencySummary(lookup), LatencySummary(bareLookup),
             LatencySummary(payloadRead), LatencySummary(clock))
        }
    }

    @inline(never)
    static func record(_ event: AuthorizationEvent, _ payload: UnsafeRawBufferPointer, _ authorizer: (any EventAuthorizer)?) -> EventRecord {
        EventRecord(app: app, delivery: .socketMode, parts: event.parts, payload: payload,
                    receivedAtMilliseconds: 1_796_000_000_123, receivedAt: receivedAt, authorizer: authorizer)
    }

    /// Reads the payload as the envelope scan just did in the daemon, so it is in the cache.
    @inline(never)
    static func touch(_ payload: UnsafeRawBufferPointer) -> UInt8 {
        var sum: UInt8 = 0
        var at = 0
        while at < payload.count { sum &+= payload[at]; at += 64 }
        return sum
    }

    /// Each event's record made with and without the authorizer, one right after the other,
    /// the order alternating by event and round. False when a record is wrong.
    static func pairedRecords(_ events: [AuthorizationEvent], _ directory: some EventAuthorizer, round: Int,
                              into phase: inout Phase, counted: Bool) -> Bool {
        var sink: UInt8 = 0
        var right = true
        for (index, event) in events.enumerated() {
            event.payload.withUnsafeBytes { payload in
                sink &+= touch(payload)
                for step in 0..<2 {
                    let authorized = (index + round + step) & 1 == 0
                    let start = monotonicNanoseconds()
                    let made = record(event, payload, authorized ? directory : nil)
                    let took = monotonicNanoseconds() - start
                    // Released after the clock read in both variants.
                    withExtendedLifetime(made) {
                        if authorized, made.authorization?.installationID != event.expected { right = false }
                    }
                    if counted {
                        if authorized { phase.with.append(took) } else { phase.without.append(took) }
                    }
                }
            }
        }
        blackHole(sink)
        return right
    }

    static func lookups(_ tenants: [EventTenant], _ events: [AuthorizationEvent], _ directory: some EventAuthorizer,
                        into samples: inout [UInt64], counted: Bool) -> Bool {
        var right = true
        for index in tenants.indices {
            let start = monotonicNanoseconds()
            let found = directory.authorize(tenants[index])
            let took = monotonicNanoseconds() - start
            if found?.installationID != events[index].expected { right = false }
            if counted { samples.append(took) }
        }
        return right
    }

    static func bareLookups(_ tenants: [EventTenant], _ events: [AuthorizationEvent], _ index: AuthorizationIndex,
                            into samples: inout [UInt64], counted: Bool) -> Bool {
        var right = true
        for at in tenants.indices {
            let start = monotonicNanoseconds()
            let found = index.authorize(tenants[at])
            let took = monotonicNanoseconds() - start
            if found?.installationID != events[at].expected { right = false }
            if counted { samples.append(took) }
        }
        return right
    }

    static func payloadReads(_ events: [AuthorizationEvent], into samples: inout [UInt64], counted: Bool) {
        var sink = 0
        for event in events {
            event.payload.withUnsafeBytes { payload in
                sink &+= Int(touch(payload))
                let start = monotonicNanoseconds()
                let fields = try? PayloadFields.read(payload)
                let took = monotonicNanoseconds() - start
                sink &+= fields?.tenant.teamID.length ?? 0
                if counted { samples.append(took) }
            }
        }
        blackHole(UInt8(truncatingIfNeeded: sink))
    }

    static func clockReads(_ count: Int, into samples: inout [UInt64], counted: Bool) {
        for _ in 0..<count {
            let start = monotonicNanoseconds()
            let took = monotonicNanoseconds() - start
            if counted { samples.append(took) }
        }
    }

    /// Nanoseconds per lookup over all tenants in a loop, best of `rounds`: the lookup without
    /// a clock read around each.
    static func batchedLookup(_ tenants: [EventTenant], _ directory: InstallationDirectory, rounds: Int) -> Double {
        var best = Double.infinity
        var found = 0
        for _ in 0..<Swift.max(3, rounds) {
            let start = monotonicNanoseconds()
            for tenant in tenants where directory.authorize(tenant) != nil { found &+= 1 }
            best = Swift.min(best, Double(monotonicNanoseconds() - start) / Double(tenants.count))
        }
        blackHole(UInt8(truncatingIfNeeded: found))
        return best
    }

    // MARK: - Helpers

    /// Takes ownership of `index` and destroys it here (not earlier, not later).
    @inline(never)
    static func release(_ index: consuming AuthorizationIndex) {
        _ = consume index
    }

    static func allocationsPerEvent(_ events: [AuthorizationEvent],
                                    _ body: (AuthorizationEvent, UnsafeRawBufferPointer) -> Void) -> Double {
        let before = sockeye_bench_allocation_count()
        for event in events { event.payload.withUnsafeBytes { body(event, $0) } }
        return Double(sockeye_bench_allocation_count() - before) / Double(events.count)
    }

    static func allocationsPerTenant(_ tenants: [EventTenant], _ body: (EventTenant) -> Void) -> Double {
        let before = sockeye_bench_allocation_count()
        for tenant in tenants { body(tenant) }
        return Double(sockeye_bench_allocation_count() - before) / Double(tenants.count)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return true }
        }
        return false
    }

    static func loadAverage() -> String {
        guard let text = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "?" }
        return text.split(separator: " ").first.map(String.init) ?? "?"
    }

    static func fail(_ message: String) -> Bool {
        FileHandle.standardError.write(Data("core-path-bench: authorization: FAILED: \(message)\n".utf8))
        return false
    }
}

/// Keeps a value alive for the optimizer.
@inline(never) func blackHole(_ value: UInt8) {
    if value == 0xFF, CommandLine.arguments.count < 0 { print(value) }
}
