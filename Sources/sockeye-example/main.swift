// sockeye-example: receive Socket Mode events and acknowledge them.
//
//   swift run sockeye-example                 # no token: against an embedded simulator
//   SLACK_APP_TOKEN=xapp-… swift run sockeye-example
//
// Prints one line per event, answers slash commands with a text response in the ack, and
// stops after --count events (default: 25 against the simulator, unlimited against Slack)
// or on Ctrl-C, printing the client's counters.
import Foundation
import Sockeye
import SockeyeSim

let arguments = CommandLine.arguments
let countArgument = arguments.firstIndex(of: "--count").flatMap { arguments.indices.contains($0 + 1) ? Int(arguments[$0 + 1]) : nil }
let environment = ProcessInfo.processInfo.environment

var options = SocketModeOptions()
options.ackMode = .manual
var token = environment["SLACK_APP_TOKEN"] ?? ""
var simulator: SimServer?
if token.isEmpty {
    var simOptions = SimServer.Options()
    simOptions.config.pingInterval = 2
    let sim = try SimServer(simOptions)
    simulator = sim
    token = simOptions.config.apps[0].appTokens[0]
    options.apiBaseURL = sim.apiBaseURL
    print("no SLACK_APP_TOKEN: using an embedded simulator at \(sim.apiBaseURL)")
} else if let url = environment["SOCKEYE_API_URL"] {
    options.apiBaseURL = url
}
let limit = countArgument ?? (simulator == nil ? Int.max : 25)

let client: SocketModeClient
do {
    client = try SocketModeClient(appToken: token, options: options)
} catch {
    FileHandle.standardError.write(Data("sockeye-example: \(error)\n".utf8))
    exit(2)
}

// Feed the simulator a few events of every kind once a connection is live.
if let sim = simulator {
    Thread.detachNewThread {
        while sim.liveConnections(app: 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
        for kind in ["app_mention", "message", "slash_command", "block_actions", "view_submission"] {
            sim.inject(kind: kind, count: (limit + 4) / 5)
        }
    }
}

let interrupt = DispatchSource.makeSignalSource(signal: SIGINT, queue: .main)
signal(SIGINT, SIG_IGN)
interrupt.setEventHandler { Task { await client.stop() } }
interrupt.resume()

var received = 0
do {
    // Making the client connected nothing; the loop's first iteration connects it.
    for try await event in client.events {
        received += 1
        let detail = event.eventType ?? event.payloadType ?? ""
        print("\(received)\t\(event.type)\t\(detail)\tteam=\(event.teamID ?? "-")\tretry=\(event.retryAttempt)")
        if event.type == "slash_commands" {
            try await event.ack(payload: #"{"text":"Received by Sockeye"}"#)
        } else {
            try await event.ack()
        }
        if received >= limit { break }
    }
} catch {
    FileHandle.standardError.write(Data("sockeye-example: \(error)\n".utf8))
}
await client.stop()
let stats = client.stats
print("received \(received), acked \(stats.pool.acksSent), duplicates dropped \(stats.pool.duplicatesDropped), reconnects \(stats.pool.connectionsLost)")
if let sim = simulator {
    let report = sim.report()
    sim.stop()
    print("simulator: delivered \(report.total.delivered), acked \(report.total.acked), unknown acks \(report.total.unknownAcks), failed after retries \(report.total.failedAfterRetries)")
}
