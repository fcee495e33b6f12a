// spool-bench: how many events per second the spool sink makes durable (committed, and with
// synchronous=FULL fsynced, before `insert` returns, as before an ack), by batch size.
//
//   swift run -c release spool-bench [--smoke] [--folder DIR] [--seconds S] [--line-bytes N]
//
// A batch is the events of one network read routed to the sink; under load a read carries
// tens to hundreds of envelopes, one at a time when the rate is low. Each row of the table
// is one spool file, written for --seconds through the same `SpoolStore.insert` the sink
// calls (one transaction per batch), with lines of --line-bytes (1 KiB: a typical message
// event) and unique event ids.
import Foundation
import Logging
import SockeyeDaemon
import SockeyeSinkKit
import SockeyeSpool

struct Options {
    var seconds = 2.0
    var lineBytes = 1024
    var folder = NSTemporaryDirectory()
    var batchSizes = [1, 10, 50, 100, 250, 1000]
    var smoke = false

    init(_ arguments: [String]) {
        var rest = arguments.dropFirst()
        while let argument = rest.popFirst() {
            switch argument {
            case "--smoke": smoke = true; seconds = 0.3; batchSizes = [1, 100]
            case "--seconds": seconds = Double(rest.popFirst() ?? "") ?? seconds
            case "--line-bytes": lineBytes = Int(rest.popFirst() ?? "") ?? lineBytes
            case "--folder": folder = rest.popFirst() ?? folder
            default:
                FileHandle.standardError.write(Data("usage: spool-bench [--smoke] [--seconds S] [--line-bytes N] [--folder DIR]\n".utf8))
                exit(2)
            }
        }
    }
}

func rows(from first: Int, count: Int, lineBytes: Int) -> [SpoolRow] {
    let padding = String(repeating: "x", count: max(0, lineBytes - 330))
    let now = Int64(Date().timeIntervalSince1970 * 1000)
    return (first..<first + count).map { number in
        let id = "Ev" + String(repeating: "0", count: max(0, 16 - String(number).count)) + String(number)
        let envelope = UUID().uuidString.lowercased()
        let line = #"{"app":"bench","delivery":"socket_mode","envelope_type":"events_api","envelope_id":"\#(envelope)","event_type":"message","team":"T0SIM0001","channel":"C0SIMCHAN","user":"U0SIMUSER","event_id":"\#(id)","retry_attempt":0,"retry_reason":null,"received_at":"2026-11-30T05:00:00.000Z","payload":{"text":"\#(padding)"}}"#
        return SpoolRow(app: "bench", envelopeType: "events_api", envelopeID: envelope, eventType: "message",
                        team: "T0SIM0001", channel: "C0SIMCHAN", user: "U0SIMUSER", eventID: id,
                        receivedAtMilliseconds: now, line: line)
    }
}

/// CPU seconds (user + system) of the whole process so far.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

func measure(batch: Int, synchronousFull: Bool, options: Options) async throws -> (events: Int, seconds: Double, cpu: Double) {
    let path = options.folder + "/spool-bench-\(getpid())-\(batch)-\(synchronousFull ? "full" : "normal").db"
    defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    var storeOptions = SpoolStore.Options()
    storeOptions.synchronousFull = synchronousFull
    let store = try SpoolStore(path: path, options: storeOptions)
    // Batches are prepared ahead (the daemon builds them while reading), up to 64 MB.
    let pool = max(1, min(2000, 64_000_000 / (batch * options.lineBytes)))
    var prepared: [[SpoolRow]] = []
    var next = 1
    for _ in 0..<pool {
        prepared.append(rows(from: next, count: batch, lineBytes: options.lineBytes))
        next += batch
    }
    var start = Date()
    var cpuStart = processCPUSeconds()
    var events = 0
    var index = 0
    while Date().timeIntervalSince(start) < options.seconds {
        if index == prepared.count {
            // Out of prepared batches: new ids for the next round (not timed).
            let pause = Date()
            let cpuPause = processCPUSeconds()
            prepared = prepared.map { _ in defer { next += batch }; return rows(from: next, count: batch, lineBytes: options.lineBytes) }
            index = 0
            start += Date().timeIntervalSince(pause)
            cpuStart += processCPUSeconds() - cpuPause
        }
        events += try await store.insert(prepared[index])
        index += 1
    }
    let seconds = Date().timeIntervalSince(start)
    let cpu = processCPUSeconds() - cpuStart
    store.close()
    return (events, seconds, cpu)
}

/// Through `SpoolSink` (group commit): `callers` concurrent callers (apps sharing the
/// sink), each handing over `batch` events at a time and waiting for the commit.
func measureSink(callers: Int, batch: Int, options: Options) async throws -> (events: Int, seconds: Double, cpu: Double, commits: Int) {
    let path = options.folder + "/spool-bench-\(getpid())-sink-\(callers)-\(batch).db"
    defer { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
    let sink = try SpoolSink(name: "bench", settings: SpoolSettings(path: path), logger: Logger(label: "spool-bench"))
    let perCaller = max(1, min(1000, 32_000_000 / (callers * batch * options.lineBytes)))
    var prepared: [[[SpoolRow]]] = []
    var next = 1
    for _ in 0..<callers {
        prepared.append((0..<perCaller).map { _ in defer { next += batch }; return rows(from: next, count: batch, lineBytes: options.lineBytes) })
    }
    let start = Date()
    let cpuStart = processCPUSeconds()
    let deadline = start.addingTimeInterval(options.seconds)
    let events = await withTaskGroup(of: Int.self, returning: Int.self) { group in
        for caller in prepared {
            group.addTask {
                var stored = 0
                for rows in caller where Date() < deadline {
                    if await sink.acceptRows(rows) == nil { stored += rows.count }
                }
                return stored
            }
        }
        return await group.reduce(0, +)
    }
    let seconds = Date().timeIntervalSince(start)
    let cpu = processCPUSeconds() - cpuStart
    let commits = sink.commits
    await sink.close()
    return (events, seconds, cpu, commits)
}

let options = Options(CommandLine.arguments)
print("spool-bench: durable events/s through SpoolStore.insert (one transaction per batch), \(options.lineBytes)-byte lines, \(options.seconds) s per row, folder \(options.folder)")
print("events/s: wall clock (fsync waits included); CPU us/event: user + system time of the process per event;")
print("events/s per core: 1 / CPU time per event (what a core spends, whatever else runs on the machine)")
print("batch  synchronous   events/s  CPU us/event  events/s per core   events")
for full in [true, false] {
    for batch in options.batchSizes {
        do {
            let result = try await measure(batch: batch, synchronousFull: full, options: options)
            let rate = Double(result.events) / result.seconds
            let mode = (full ? "FULL" : "NORMAL").padding(toLength: 11, withPad: " ", startingAt: 0)
            let cpuPerEvent = result.cpu / Double(max(result.events, 1))
            print(String(format: "%5d  ", batch) + mode + String(format: " %8.0f  %12.2f  %17.0f  %7d", rate, cpuPerEvent * 1e6,
                                                                 1 / max(cpuPerEvent, 1e-12), result.events))
        } catch {
            print("batch \(batch): \(error)")
            exit(1)
        }
    }
}

print("")
print("through SpoolSink (synchronous FULL, group commit): concurrent callers (apps) each waiting for its commit")
print("callers  batch   events/s  CPU us/event  events/commit   events")
for (callers, batch) in options.smoke ? [(4, 10)] : [(1, 10), (4, 10), (16, 10), (16, 50), (64, 20)] {
    do {
        let result = try await measureSink(callers: callers, batch: batch, options: options)
        let rate = Double(result.events) / result.seconds
        print(String(format: "%7d  %5d  %9.0f  %12.2f  %13.1f  %7d", callers, batch, rate,
                     result.cpu / Double(max(result.events, 1)) * 1e6, Double(result.events) / Double(max(result.commits, 1)), result.events))
    } catch {
        print("sink \(callers)x\(batch): \(error)")
        exit(1)
    }
}
