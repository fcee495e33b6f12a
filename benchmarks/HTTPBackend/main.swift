// sockeye-bench-backend: a keep-alive HTTP app for the forwarder benchmark. It answers every
// POST with 200 after checking the request's Slack signature (as an HTTP-mode app does),
// counts requests, and prints `LISTENING port=N` on start; on SIGTERM it prints
// `REQUESTS ok=N bad_signature=M` and exits.
//
//   sockeye-bench-backend --secret S [--port 0]
import Foundation
import Hummingbird
import HTTPTypes
import Logging
import NIOCore
import SockeyeDaemon
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
let timestampHeader = HTTPField.Name("X-Slack-Request-Timestamp")!
let signatureHeader = HTTPField.Name("X-Slack-Signature")!

let router = Router()
router.post("**") { request, _ -> Response in
    let body = try await request.body.collect(upTo: 4 << 20)
    let verdict = body.withUnsafeReadableBytes { bytes in
        SlackRequestSignature.verify(secret: secret, timestamp: request.headers[timestampHeader],
                                     signature: request.headers[signatureHeader], body: bytes,
                                     now: Int64(Date().timeIntervalSince1970))
    }
    guard verdict == .valid else {
        invalid.add(1, ordering: .relaxed)
        return Response(status: .unauthorized)
    }
    valid.add(1, ordering: .relaxed)
    return Response(status: .ok)
}
var logger = Logger(label: "bench-backend")
logger.logLevel = .error
let application = Application(
    router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: port)),
    onServerRunning: { channel in
        FileHandle.standardOutput.write(Data("LISTENING port=\(channel.localAddress?.port ?? 0)\n".utf8))
    }, logger: logger)
signal(SIGTERM, SIG_IGN)
let stopSource = DispatchSource.makeSignalSource(signal: SIGTERM, queue: .main)
stopSource.setEventHandler {
    FileHandle.standardOutput.write(Data("REQUESTS ok=\(valid.load(ordering: .relaxed)) bad_signature=\(invalid.load(ordering: .relaxed))\n".utf8))
    exit(0)
}
stopSource.resume()
try await application.runService()
