// sockeye-bench-backend: a keep-alive HTTP app for the forwarder benchmark. It answers every
// POST with 200 after checking the request's Slack signature (as an HTTP-mode app does),
// counts requests, and prints `LISTENING port=N` on start; on SIGTERM it prints
// `REQUESTS ok=N bad_signature=M` and exits. Served by SockeyeHTTP's small server, so the
// backend costs little next to the forwarder it measures. With `--tls-cert` and `--tls-key`
// (PEM files) the announced port speaks https (TLSRelay.swift).
//
//   sockeye-bench-backend --secret S [--port 0] [--threads 1] [--tls-cert C --tls-key K]
import Foundation
import NIOPosix
import SockeyeDaemon
import SockeyeHTTP
import SockeyeSinkKit
import SockeyeSlackSignature
import Synchronization

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let secret = Array((option("--secret") ?? "").utf8)
let port = Int(option("--port") ?? "0") ?? 0
let valid = Atomic<Int>(0)
let invalid = Atomic<Int>(0)

// One event loop: on a 2-core machine shared with the sim and sockeyed, a second loop
// costs more CPU per request (cross-thread wake-ups) than it adds.
let group = MultiThreadedEventLoopGroup(numberOfThreads: Int(option("--threads") ?? "1") ?? 1)
let server = HTTPServer(host: "127.0.0.1", port: port, limits: HTTPServer.Limits(bodyLimit: { _ in 4 << 20 }),
                        group: group) { request, sender in
    let verdict = request.body.withUnsafeReadableBytes { bytes in
        SlackRequestSignature.verify(secret: secret, timestamp: request.header("X-Slack-Request-Timestamp"),
                                     signature: request.header("X-Slack-Signature"), body: bytes,
                                     now: Timestamp.nowMilliseconds() / 1000)
    }
    guard verdict == .valid else {
        invalid.add(1, ordering: .relaxed)
        return sender.send(HTTPServerResponse(status: .unauthorized))
    }
    valid.add(1, ordering: .relaxed)
    sender.send(HTTPServerResponse(status: .ok))
}
signal(SIGTERM, SIG_IGN)
let stopSource = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .main)
stopSource.setEventHandler {
    FileHandle.standardOutput.write(Data("REQUESTS ok=\(valid.load(ordering: .relaxed)) bad_signature=\(invalid.load(ordering: .relaxed))\n".utf8))
    exit(0)
}
stopSource.resume()
try await server.start()
var announced = server.port ?? 0
if let certificate = option("--tls-cert"), let key = option("--tls-key") {
    announced = try await TLSRelay.start(certificate: certificate, key: key, innerPort: announced, group: group)
}
FileHandle.standardOutput.write(Data("LISTENING port=\(announced)\n".utf8))
await server.waitUntilStopped()
