import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import SockeyeOperations
import SockeyeSpool
import Testing

/// A fresh temporary directory for a test's files.
func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "sockeye-spool-tests-\(getpid())-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Waits (bounded) until `condition` holds.
func eventually(seconds: Double = 20, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

let quietLogger: Logger = {
    var logger = Logger(label: "spool-tests")
    logger.logLevel = .critical
    return logger
}()

/// A row like the daemon's: event `number` of `app`, with a line of about `size` bytes.
func row(_ number: Int, app: String = "app", team: String? = "T0SIM0001", eventID: Bool = true,
        receivedAt: Int64 = 1_764_474_000_000, size: Int = 200) -> SpoolRow {
    let id = "Ev" + String(repeating: "0", count: max(0, 16 - String(number).count)) + String(number)
    let envelope = "env-\(number)"
    let padding = String(repeating: "x", count: max(0, size - 150))
    let line = #"{"app":"\#(app)","envelope_type":"events_api","envelope_id":"\#(envelope)","event_id":"\#(id)","payload":{"text":"\#(padding)"}}"#
    return SpoolRow(app: app, envelopeType: "events_api", envelopeID: envelope, eventType: "message", team: team,
                    channel: "C0SIMCHAN", user: "U0SIMUSER", eventID: eventID ? id : nil,
                    receivedAtMilliseconds: receivedAt, line: line)
}

/// Runs `sql` in the sqlite3 shell-free way: a second connection of our own.
func fileBytes(_ path: String) -> [UInt8] {
    (FileManager.default.contents(atPath: path).map { [UInt8]($0) }) ?? []
}

/// swift-metrics may be bootstrapped once per process: every test here shares this export.
let spoolTestMetrics = MetricsExport.bootstrap()

/// GET `path` on the loopback port: (status, body).
func httpGet(_ port: Int, _ path: String) async throws -> (Int, String) {
    let (data, response) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)\(path)")!)
    return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
}
