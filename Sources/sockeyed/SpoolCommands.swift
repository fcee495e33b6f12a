// `sockeyed spool list|show|replay|purge`: reads and trims a spool sink's SQLite file
// (schema: docs/spool.md). Reading commands open the file read-only and work while the
// daemon writes to it (WAL); none of them ever creates or replaces a spool.
import ArgumentParser
import Foundation
import SockeyeDaemon
import SockeyeSpool

struct SpoolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spool",
        abstract: "Read, replay and trim the durable spool of a spool sink.",
        subcommands: [SpoolList.self, SpoolShow.self, SpoolReplay.self, SpoolPurge.self]
    )
}

/// Which spool file: `--path`, or the spool sink of `--config` (`--sink` when it has several).
struct SpoolLocation: ParsableArguments {
    @Option(name: .long, help: "The spool's SQLite file.")
    var path: String?

    @Option(name: .long, help: "A sockeyed configuration: use its spool sink's path (default: $SOCKEYE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The spool sink's name in --config, when it has more than one.")
    var sink: String?

    func resolve() throws -> String {
        if let path { return path }
        let environment = ProcessInfo.processInfo.environment
        guard let file = config ?? environment["SOCKEYE_CONFIG"] else {
            throw ValidationError("give the spool file with --path FILE, or a configuration with --config FILE")
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try ConfigLoader.load(path: file, environment: environment)
        } catch {
            fail("\(error.description)", code: 2)
        }
        let spools = configuration.sinks.compactMap { name, settings -> (String, String)? in
            if case .spool(let spool) = settings { return (name, spool.path) }
            return nil
        }.sorted { $0.0 < $1.0 }
        if let sink {
            guard let found = spools.first(where: { $0.0 == sink }) else {
                fail("\(file) has no spool sink named \(sink) (spool sinks: \(spools.map(\.0).joined(separator: ", ")))", code: 2)
            }
            return found.1
        }
        guard spools.count == 1 else {
            fail(spools.isEmpty ? "\(file) has no spool sink"
                                : "\(file) has \(spools.count) spool sinks: choose one with --sink (\(spools.map(\.0).joined(separator: ", ")))",
                 code: 2)
        }
        return spools[0].1
    }

    func open(readOnly: Bool = true) throws -> SpoolStore {
        var options = SpoolStore.Options()
        options.readOnly = readOnly
        let path = try resolve()
        do {
            return try SpoolStore(path: path, options: options)
        } catch {
            fail(error.description)
        }
    }
}

/// Filters shared by list and replay.
struct SpoolSelection: ParsableArguments {
    @Option(name: .long, help: "Only this app (its name in the configuration).")
    var app: String?

    @Option(name: .long, help: "Only this event type or envelope type (message, app_mention, slash_commands, …).")
    var type: String?

    @Option(name: .long, help: "Only events received since: a time (2026-11-30T04:00:00Z, 2026-11-30) or an age (90s, 15m, 2h, 7d).")
    var since: String?

    @Option(name: .long, help: "Only events with this sequence number or a later one.")
    var fromSeq: Int64?

    func filter(limit: Int?) throws -> SpoolFilter {
        var sinceMilliseconds: Int64?
        if let since {
            guard let parsed = SpoolTime.parse(since) else {
                throw ValidationError("--since \(since): give a time like 2026-11-30T04:00:00Z or 2026-11-30, or an age like 90s, 15m, 2h or 7d")
            }
            sinceMilliseconds = parsed
        }
        return SpoolFilter(app: app, type: type, sinceMilliseconds: sinceMilliseconds, fromSeq: fromSeq, limit: limit)
    }
}

struct SpoolList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "A table of the spooled events: the newest --limit, or from --since / --from-seq on."
    )

    @OptionGroup var location: SpoolLocation
    @OptionGroup var selection: SpoolSelection

    @Option(name: .long, help: "At most this many events.")
    var limit = 50

    func run() throws {
        let store = try location.open()
        let statistics: SpoolStatistics
        let rows: [SpoolRow]
        do {
            statistics = try store.statistics()
            rows = try store.rows(try selection.filter(limit: limit))
        } catch let error as SpoolError {
            fail(error.description)
        }
        print("\(store.path): \(statistics.events) event(s)"
              + (statistics.firstSeq.map { ", seq \($0)…\(statistics.lastSeq ?? $0)" } ?? "")
              + (statistics.oldestMilliseconds.map { ", received \(SpoolTime.format($0)) … \(SpoolTime.format(statistics.newestMilliseconds ?? $0))" } ?? "")
              + ", \(statistics.usedBytes / 1024) KiB")
        let header = ["SEQ", "RECEIVED", "APP", "ENVELOPE", "EVENT TYPE", "TEAM", "CHANNEL", "EVENT ID", "RETRY"]
        let table = rows.map { row in
            [String(row.seq), SpoolTime.format(row.receivedAtMilliseconds), row.app, row.envelopeType, row.eventType ?? "-",
             row.team ?? "-", row.channel ?? "-", row.eventID ?? row.envelopeID, String(row.retryAttempt)]
        }
        let widths = header.indices.map { column in ([header] + table).map { $0[column].count }.max() ?? 0 }
        for line in [header] + table {
            print(line.indices.map { line[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}

struct SpoolShow: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print one event's JSON line, found by sequence number, event id or envelope id."
    )

    @OptionGroup var location: SpoolLocation

    @Argument(help: "A sequence number (seq), an event id (Ev…) or an envelope id.")
    var key: String

    func run() throws {
        let store = try location.open()
        let rows: [SpoolRow]
        do {
            rows = try store.find(key)
        } catch {
            fail(error.description)
        }
        guard !rows.isEmpty else { fail("no event with seq, event id or envelope id \(key) in \(store.path)") }
        for row in rows { print(row.line) }
    }
}

struct SpoolReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Print spooled events as JSON lines on standard output, oldest first, for re-processing.",
        discussion: """
            Standard error gets one closing line with the count and the last sequence number: \
            continue later with --from-seq LAST+1.
            """
    )

    @OptionGroup var location: SpoolLocation
    @OptionGroup var selection: SpoolSelection

    @Option(name: .long, help: "At most this many events.")
    var limit: Int?

    func run() throws {
        let store = try location.open()
        var lastSeq: Int64?
        let output = FileHandle.standardOutput
        var buffer: [UInt8] = []
        let count: Int
        do {
            count = try store.forEach(try selection.filter(limit: limit)) { row in
                buffer.append(contentsOf: row.line.utf8)
                buffer.append(0x0A)
                if buffer.count >= 1 << 16 {
                    output.write(Data(buffer))
                    buffer.removeAll(keepingCapacity: true)
                }
                lastSeq = row.seq
            }
        } catch let error as SpoolError {
            fail(error.description)
        }
        output.write(Data(buffer))
        FileHandle.standardError.write(Data(
            "sockeyed spool replay: \(count) event(s)\(lastSeq.map { ", last seq \($0) (continue with --from-seq \($0 + 1))" } ?? "")\n".utf8))
    }
}

struct SpoolPurge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete spooled events older than an age or time, or all of them (with --yes).",
        discussion: "Without --yes, only says how many events would go. Sequence numbers are never reused."
    )

    @OptionGroup var location: SpoolLocation

    @Option(name: .long, help: "Delete events received before: an age (7d, 12h) or a time (2026-11-30T04:00:00Z).")
    var olderThan: String?

    @Flag(name: .long, help: "Delete every event.")
    var all = false

    @Flag(name: .long, help: "Really delete (without it, purge only counts).")
    var yes = false

    func validate() throws {
        guard (olderThan != nil) != all else { throw ValidationError("give either --older-than AGE or --all") }
    }

    func run() throws {
        var cutoff: Int64?
        if let olderThan {
            guard let parsed = SpoolTime.parse(olderThan) else {
                throw ValidationError("--older-than \(olderThan): give an age like 7d or 12h, or a time like 2026-11-30T04:00:00Z")
            }
            cutoff = parsed
        }
        let store = try location.open(readOnly: !yes)
        do {
            guard yes else {
                let count = try store.count(receivedBefore: cutoff)
                print("would delete \(count) event(s) from \(store.path); run again with --yes to delete them")
                return
            }
            let removed = try store.purge(receivedBefore: cutoff)
            print("deleted \(removed) event(s) from \(store.path)")
        } catch {
            fail(error.description)
        }
    }
}

/// Times on the command line and in tables.
enum SpoolTime {
    /// Milliseconds since 1970 for `2026-11-30T04:00:00Z` (fraction and offset optional),
    /// `2026-11-30`, or an age before now: `90s`, `15m`, `2h`, `7d`, `2w`.
    static func parse(_ text: String, now: Date = Date()) -> Int64? {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let unit = text.last, let seconds = units[unit] {
            // An age of up to a century, as plain digits: `1e300d` or `infw` are refused, not
            // converted (that would trap).
            let digits = text.dropLast()
            guard !digits.isEmpty, digits.count <= 12, digits.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Double(String(digits)), value * seconds <= 100 * 365 * 86_400 else { return nil }
            return Int64(((now.timeIntervalSince1970 - value * seconds) * 1000).rounded(.down))
        }
        let withTime = ISO8601DateFormatter()
        withTime.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        for formatter in [withTime, plain, day] {
            if let date = formatter.date(from: text) {
                let milliseconds = (date.timeIntervalSince1970 * 1000).rounded(.down)
                // A date the formatter reads is a few thousand years from 1970 at most; checked all the same.
                return abs(milliseconds) < 1e17 ? Int64(milliseconds) : nil
            }
        }
        return nil
    }

    /// `2026-11-30T04:24:15.123Z`.
    static func format(_ milliseconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}

/// Prints `message` to standard error and exits with `code` (1: the spool; 2: usage or configuration).
func fail(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("sockeyed spool: \(message)\n".utf8))
    Foundation.exit(code)
}
