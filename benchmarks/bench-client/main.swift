// sockeye-bench-client: the Sockeye contender of benchmarks/run.
//
// Connects through the Swift API (SocketModeClient) to the Web API at SOCKEYE_API_URL with
// SLACK_APP_TOKEN (SSL_CERT_FILE for the simulator's wss certificate), acks every event
// through `event.ack()` (manual mode: the path an application takes), and on SIGTERM or
// SIGINT stops gracefully and prints one JSON line: events received, allocations per event
// counted process-wide between the first and the last event, and the client's counters.
//
// Options (environment): SOCKEYE_POOL_SIZE (default 1), SOCKEYE_ACK_MODE (manual,
// after_handler, on_receipt; default manual), SLACK_APP_TOKENS (comma-separated: one client
// per app token in this process, for the many-apps scenario; allocations are then not
// counted), SOCKEYE_BENCH_TRACK_IDS=1 (count events whose event_id reached the handler more
// than once: `duplicates` in the JSON line; off by default, it allocates per event).
// SOCKEYE_BENCH_GUARD_WAITS=0 lets the ack guard ack events the consumer has not taken yet
// (the Swift API's default is to wait for the take), to measure what the wait costs.
// SIGUSR1 stops the consumer (it takes no event from the stream until SIGUSR2), for the
// consumer-stop benchmark (benchmarks/consumer-stop.sh).
import CMallocCounter
import Foundation
import Sockeye
import SockeyeCore
import Synchronization

let environment = ProcessInfo.processInfo.environment
guard let token = environment["SLACK_APP_TOKEN"], let api = environment["SOCKEYE_API_URL"] else {
    FileHandle.standardError.write(Data("sockeye-bench-client: set SLACK_APP_TOKEN and SOCKEYE_API_URL\n".utf8))
    exit(2)
}
let tokens = environment["SLACK_APP_TOKENS"].map { $0.split(separator: ",").map(String.init) } ?? [token]
let trackIDs = environment["SOCKEYE_BENCH_TRACK_IDS"] == "1"
var options = SocketModeOptions()
options.apiBaseURL = api
options.poolSize = Int(environment["SOCKEYE_POOL_SIZE"] ?? "") ?? 1
options.ackMode =
    switch environment["SOCKEYE_ACK_MODE"] {
    case "after_handler": .afterHandler
    case "on_receipt": .onReceipt
    default: .manual
    }
options.caFile = environment["SSL_CERT_FILE"]
if environment["SOCKEYE_BENCH_GUARD_WAITS"] == "0" { options.ackGuardWaitsForConsumer = false }

var clients: [SocketModeClient] = []
do {
    for appToken in tokens { clients.append(try SocketModeClient(appToken: appToken, options: options)) }
} catch {
    FileHandle.standardError.write(Data("sockeye-bench-client: \(error)\n".utf8))
    exit(2)
}
let allClients = clients

/// Counts of the consumer task. Only that task touches them while it runs; `summary` is read
/// after it ended (`await consumer.value` orders the two), so no lock is taken per event.
final class Progress: @unchecked Sendable {
    private(set) var received = 0
    /// Event ids seen (SOCKEYE_BENCH_TRACK_IDS) and how many came again.
    private var seen = Set<String>()
    private(set) var duplicates = 0
    /// Distinct event ids seen (SOCKEYE_BENCH_TRACK_IDS).
    var distinct: Int { seen.count }

    func record(eventID: String?) {
        if let eventID, !seen.insert(eventID).inserted { duplicates += 1 }
        record()
    }
    private var firstAllocations: UInt64 = 0
    private var lastAllocations: UInt64 = 0
    private var windowEvents = 0

    func record() {
        received += 1
        // Skip the first 1 000 events (connection set-up, buffers growing) before counting.
        if received == 1_000 { firstAllocations = sockeye_bench_allocation_count() }
        if received > 1_000 {
            lastAllocations = sockeye_bench_allocation_count()
            windowEvents = received - 1_000
        }
    }

    var summary: (received: Int, allocationsPerEvent: Double?) {
        let perEvent = windowEvents > 0 ? Double(lastAllocations - firstAllocations) / Double(windowEvents) : nil
        return (received, perEvent)
    }
}

/// Set between SIGUSR1 and SIGUSR2: the consumer takes nothing from the stream.
let consumerStopped = Atomic<Bool>(false)

let progresses = allClients.map { _ in Progress() }
let stopSignal = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .global())
let interruptSignal = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
signal(SIGTERM, SIG_IGN)
signal(SIGINT, SIG_IGN)
for source in [stopSignal, interruptSignal] {
    source.setEventHandler { Task { for client in allClients { await client.stop() } } }
    source.resume()
}
let pauseSignal = DispatchSource.makeSignalSource(signal: SIGUSR1, queue: .global())
let resumeSignal = DispatchSource.makeSignalSource(signal: SIGUSR2, queue: .global())
signal(SIGUSR1, SIG_IGN)
signal(SIGUSR2, SIG_IGN)
pauseSignal.setEventHandler { consumerStopped.store(true, ordering: .relaxed) }
resumeSignal.setEventHandler { consumerStopped.store(false, ordering: .relaxed) }
pauseSignal.resume()
resumeSignal.resume()

// Every client connects now, as a server's would at start (not at its consumer's first take,
// which SIGUSR1 may hold back); run() returns once the signal handler's stop() is done.
for client in allClients {
    Task.detached { try? await client.run() }
}

// The handler runs off the main actor, as a server's would (no hop to the main thread per event).
let ackMode = options.ackMode
let consumers = zip(allClients, progresses).map { client, progress in
    Task.detached {
        do {
            var events = client.events.makeAsyncIterator()
            while true {
                // Stopped: nothing is taken, so the stream fills up to its bound.
                while consumerStopped.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }
                guard let event = try await events.next() else { break }
                if trackIDs { progress.record(eventID: event.eventID) } else { progress.record() }
                if ackMode == .manual { try event.ack(payloadBytes: nil) }
            }
        } catch {
            FileHandle.standardError.write(Data("sockeye-bench-client: \(error)\n".utf8))
        }
    }
}
for consumer in consumers { await consumer.value }
let received = progresses.reduce(0) { $0 + $1.received }
let perEvent = allClients.count == 1 ? progresses[0].summary.allocationsPerEvent : nil
let pools = allClients.map(\.stats.pool)
let allocations = perEvent.map { String(format: "%.3f", $0) } ?? "null"
let duplicates = trackIDs ? String(progresses.reduce(0) { $0 + $1.duplicates }) : "null"
let distinct = trackIDs ? String(progresses.reduce(0) { $0 + $1.distinct }) : "null"
print("{\"received\":\(received),\"allocationsPerEvent\":\(allocations),\"acksSent\":\(pools.reduce(0) { $0 + $1.acksSent }),"
    + "\"duplicatesDropped\":\(pools.reduce(0) { $0 + $1.duplicatesDropped }),\"connectionsLost\":\(pools.reduce(0) { $0 + $1.connectionsLost }),"
    + "\"ackGuardFired\":\(pools.reduce(0) { $0 + $1.ackGuardFired }),\"duplicates\":\(duplicates),\"distinct\":\(distinct),"
    + "\"ackGuardWithheld\":\(pools.reduce(0) { $0 + $1.ackGuardWithheld }),\"redeliveriesCoalesced\":\(pools.reduce(0) { $0 + $1.redeliveriesCoalesced }),"
    + "\"peakQueuedEvents\":\(allClients.map(\.stats.peakQueuedEvents).max() ?? 0),\"intakePauses\":\(allClients.reduce(0) { $0 + $1.stats.intakePauses })}")
