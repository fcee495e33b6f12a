// core-path-bench: what the service thread spends per envelope in the sans-IO core, with no
// socket, thread or clock of its own in the way.
//
//   swift run -c release core-path-bench [--smoke] [--fixture FILE] [--events N] [--rounds R]
//
// Builds N distinct Socket Mode frames from one envelope fixture (default: the 1 KB
// `message` event the simulator sends under load; each frame gets its own envelope_id and
// event_id), wraps them as server WebSocket frames and concatenates them into 256 KiB reads.
// Each round then runs the two halves of an envelope's life on the service thread:
//   receive: WebSocketFrameDecoder -> PoolController.receive (scan, de-duplication, ack
//            tracking) -> the `.deliver` action;
//   ack:     PoolController.ack -> the `.sendAck` action -> WebSocketFrameWriter.appendAck
//            (JSON encoding, masking) into one output buffer.
// Prints the best round's nanoseconds per envelope for each half and allocations per
// envelope (malloc calls counted process-wide). Shared machines are noisy: compare figures
// from one run, and prefer the best round.
//
// Then the authorization section (AuthorizationBenchmark.swift): per-event latency of
// finding an event's installation among 1 000 (EventRecord with and without the authorizer,
// the lookup alone, and both while another thread replaces the index every millisecond).
//   --only core|authorization   one section;  --auth-events N  --auth-rounds R  --auth-replaced-seconds S
import CMallocCounter
import Foundation
import SockeyeCore

struct Options {
    var events = 20_000
    var rounds = 15
    var fixture: String?
    var only: String?
    var authorization = AuthorizationBenchmark.Options()

    init(_ arguments: [String]) {
        func usage() -> Never {
            FileHandle.standardError.write(Data(("usage: core-path-bench [--smoke] [--fixture FILE] [--events N] [--rounds R] "
                + "[--only core|authorization] [--auth-events N] [--auth-rounds R] [--auth-replaced-seconds S]\n").utf8))
            exit(2)
        }
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            switch argument {
            case "--smoke":
                events = 2_000; rounds = 3
                authorization.events = 2_000; authorization.rounds = 2; authorization.replacedSeconds = 0.3
                authorization.smoke = true
            case "--events": events = Int(iterator.next() ?? "") ?? events
            case "--rounds": rounds = Int(iterator.next() ?? "") ?? rounds
            case "--fixture": fixture = iterator.next()
            case "--only":
                only = iterator.next()
                if only != "core", only != "authorization" { usage() }
            case "--auth-events": authorization.events = max(100, Int(iterator.next() ?? "") ?? authorization.events)
            case "--auth-rounds": authorization.rounds = max(1, Int(iterator.next() ?? "") ?? authorization.rounds)
            case "--auth-replaced-seconds":
                authorization.replacedSeconds = Double(iterator.next() ?? "") ?? authorization.replacedSeconds
            default: usage()
            }
        }
    }
}

/// The simulator's 1 KB load message (sockeye-sim --load-sizes 1024), as it sends it.
let defaultEnvelope = #"{"envelope_id":"5a1254d9-9a69-47e8-9f69-0b2f00000000","payload":{"token":"sim-verification-token","team_id":"T0SIM0001","api_app_id":"A0SIMAPP01","event":{"type":"message","user":"U0SIMUSR1","text":"Grüße aus Zürich 🐟🚀 — naïve café, 日本語のテキスト, emoji :tada: 🎉👩🏽‍💻","ts":"1732390000.000100","channel":"C0SIMCHAN","event_ts":"1732390000.000100","channel_type":"channel","sim_padding":"sockeye 🐟 sockeye 🐟 sockeye 🐟 sockeye 🐟 sockeye 🐟 sockeye 🐟 sockeye 🐟 sockeye 🐟 sockeye ","blocks":[{"type":"rich_text","block_id":"b1","elements":[{"type":"rich_text_section","elements":[{"type":"text","text":"Grüße aus Zürich "},{"type":"emoji","name":"fish","unicode":"1f41f"}]}]}]},"type":"event_callback","event_id":"Ev0000000000000000","event_time":1732390000,"event_context":"4-eyJldCI6Im1lc3NhZ2UifQ","is_ext_shared_channel":false,"authorizations":[{"enterprise_id":null,"team_id":"T0SIM0001","user_id":"U0SIMBOT1","is_bot":true,"is_enterprise_install":false}]},"type":"events_api","accepts_response_payload":false,"retry_attempt":0,"retry_reason":""}"#

/// A server (unmasked) text frame.
func serverFrame(_ payload: [UInt8]) -> [UInt8] {
    var frame: [UInt8] = [0x81]
    if payload.count <= 125 {
        frame.append(UInt8(payload.count))
    } else if payload.count <= 0xFFFF {
        frame += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
    } else {
        frame.append(127)
        for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((payload.count >> shift) & 0xFF)) }
    }
    return frame + payload
}

/// Replaces the 16 characters after `marker` with `value` as decimal digits.
func stamp(_ bytes: inout [UInt8], after marker: String, width: Int, value: Int) {
    let needle = Array(marker.utf8)
    guard let start = bytes.indices.first(where: { bytes[$0...].starts(with: needle) }) else { return }
    var digits = Array(String(value).utf8)
    if digits.count < width { digits = Array(repeating: UInt8(ascii: "0"), count: width - digits.count) + digits }
    bytes.replaceSubrange((start + needle.count)..<(start + needle.count + width), with: digits.suffix(width))
}

let options = Options(Array(CommandLine.arguments.dropFirst()))
if options.only == "authorization" { exit(AuthorizationBenchmark.run(options.authorization) ? 0 : 1) }
var template = Array(defaultEnvelope.utf8)
if let path = options.fixture {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("core-path-bench: cannot read \(path)\n".utf8))
        exit(2)
    }
    template = Array(data)
}

/// Reads of up to 256 KiB, each holding whole frames; event ids are restamped every round.
struct Workload {
    var reads: [[UInt8]] = []
    /// (read, offset of the event id's digits) for every frame, to restamp them.
    var eventIDOffsets: [(read: Int, offset: Int)] = []

    init(template: [UInt8], events: Int) {
        var current: [UInt8] = []
        for index in 0..<events {
            var envelope = template
            stamp(&envelope, after: "\"envelope_id\":\"5a1254d9-9a69-47e8-9f69-", width: 12, value: index)
            let frame = serverFrame(envelope)
            if current.count + frame.count > 256 * 1024 {
                reads.append(current)
                current = []
            }
            let marker = Array("\"event_id\":\"Ev".utf8)
            if let at = frame.indices.first(where: { frame[$0...].starts(with: marker) }) {
                eventIDOffsets.append((reads.count, current.count + at + marker.count))
            }
            current += frame
        }
        if !current.isEmpty { reads.append(current) }
    }

    /// Gives every frame an event id not used in earlier rounds.
    mutating func restamp(round: Int) {
        for (index, place) in eventIDOffsets.enumerated() {
            var value = round * 10_000_000 + index
            for position in stride(from: place.offset + 15, through: place.offset, by: -1) {
                reads[place.read][position] = UInt8(ascii: "0") + UInt8(value % 10)
                value /= 10
            }
        }
    }
}

var workload = Workload(template: template, events: options.events)
var configuration = PoolConfiguration()
configuration.ackMode = .manual
var clock = Instant(nanoseconds: 1_000_000_000)
var pool = PoolController(configuration: configuration, random: SplitMix64(seed: 1), now: clock)
pool.handle(.start, now: clock)
pool.handle(.urlResponse(.url("wss://example.invalid/link")), now: clock)
var connection = ConnectionID(rawValue: 0)
while let action = pool.nextAction() { if case .connect(let id, _) = action { connection = id } }
pool.handle(.opened(connection), now: clock)
var hello = Array(#"{"type":"hello","num_connections":1,"debug_info":{"host":"bench","approximate_connection_time":18060},"connection_info":{"app_id":"A0SIMAPP01"}}"#.utf8)
hello.withUnsafeMutableBytes { _ = pool.receive(frame: UnsafeRawBufferPointer($0), on: connection, now: clock) }
while pool.nextAction() != nil {}

var decoder = WebSocketFrameDecoder(checksUnfragmentedText: false)
var writer = WebSocketFrameWriter(initialCapacity: 1 << 20)
var maskRandom = SplitMix64(seed: 7)
var tokens: [DeliveryToken] = []
tokens.reserveCapacity(options.events)
var bestReceive = Double.infinity
var bestAck = Double.infinity
var allocations = 0.0
var delivered = 0
var bytesOut = 0

for round in 0..<options.rounds {
    workload.restamp(round: round)
    tokens.removeAll(keepingCapacity: true)
    // Time moves 1 ms per round: nothing expires, the ack guard never fires.
    clock = Instant(nanoseconds: clock.nanoseconds + 1_000_000)
    let now = clock
    let mallocsBefore = sockeye_bench_allocation_count()
    let start = DispatchTime.now().uptimeNanoseconds
    for read in workload.reads {
        read.withUnsafeBytes { bytes in
            try? decoder.decode(bytes) { message in
                guard case .text(let frame) = message else { return }
                pool.receive(frame: frame, on: connection, now: now)
                while let action = pool.nextAction() {
                    if case .deliver(let delivery) = action { tokens.append(delivery.token) }
                }
            }
        }
    }
    let middle = DispatchTime.now().uptimeNanoseconds
    for token in tokens {
        _ = pool.ack(token, now: now)
        while let action = pool.nextAction() {
            if case .sendAck(_, let message) = action { try? writer.appendAck(message, using: &maskRandom) }
        }
    }
    bytesOut = writer.count
    writer.removeAll()
    let end = DispatchTime.now().uptimeNanoseconds
    let mallocsAfter = sockeye_bench_allocation_count()
    guard tokens.count == options.events else {
        FileHandle.standardError.write(Data("core-path-bench: round \(round) delivered \(tokens.count) of \(options.events)\n".utf8))
        exit(1)
    }
    delivered += tokens.count
    bestReceive = min(bestReceive, Double(middle - start) / Double(tokens.count))
    bestAck = min(bestAck, Double(end - middle) / Double(tokens.count))
    if round > 0 { allocations = Double(mallocsAfter - mallocsBefore) / Double(tokens.count) }
}

// Reference rows: the decoder alone, and the decoder plus the scanner, over the same reads.
var bestDecode = Double.infinity
var bestScan = Double.infinity
var scanDecoder = WebSocketFrameDecoder(checksUnfragmentedText: false)
for _ in 0..<options.rounds {
    var frames = 0
    let start = DispatchTime.now().uptimeNanoseconds
    for read in workload.reads {
        read.withUnsafeBytes { bytes in
            try? scanDecoder.decode(bytes) { message in if case .text = message { frames += 1 } }
        }
    }
    let middle = DispatchTime.now().uptimeNanoseconds
    var kinds = 0
    for read in workload.reads {
        read.withUnsafeBytes { bytes in
            try? scanDecoder.decode(bytes) { message in
                if case .text(let frame) = message, let envelope = try? EnvelopeScanner.scan(frame) {
                    kinds &+= Int(envelope.retryAttempt ?? 1)
                }
            }
        }
    }
    let end = DispatchTime.now().uptimeNanoseconds
    guard frames == options.events, kinds == 0 else { fatalError("reference rounds saw \(frames) frames") }
    bestDecode = min(bestDecode, Double(middle - start) / Double(frames))
    bestScan = min(bestScan, Double(end - middle) / Double(frames))
}

let frameBytes = workload.reads.reduce(0) { $0 + $1.count } / options.events
print(String(format: "core-path-bench: %d events of %d B per round, best of %d rounds", options.events, frameBytes, options.rounds))
print(String(format: "  receive (decode, scan, de-dup, track, deliver)  %7.0f ns/event", bestReceive))
print(String(format: "  ack (resolve, encode, mask, queue)              %7.0f ns/event", bestAck))
print(String(format: "  total                                           %7.0f ns/event  (%.0f events/s on one core)", bestReceive + bestAck, 1e9 / (bestReceive + bestAck)))
print(String(format: "  reference: decode only                          %7.0f ns/event", bestDecode))
print(String(format: "  reference: decode + EnvelopeScanner.scan         %7.0f ns/event", bestScan))
print(String(format: "  allocations                                     %7.2f per event (last round)", allocations))
print("  delivered \(delivered), ack bytes in the last round \(bytesOut)")

if options.only != "core", !AuthorizationBenchmark.run(options.authorization) { exit(1) }
