import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import NIOCore
import SockeyeBridge
import SockeyeDaemon
import SockeyeSim
import SockeyeSinkKit
import SockeyeSlackSignature
import Synchronization
import Testing

/// An HTTP-mode app for the forwarder: answers by the request's path, records each request
/// (checking its signature with the simulator's independent implementation).
final class BackendApp: Sendable {
    struct Seen: Sendable {
        var path: String
        var contentType: String
        var body: String
        var signatureValid: Bool
        var retryNumber: String?
        var retryReason: String?
        var userAgent: String
        /// Whether a header named `X-Injected` arrived (a value that smuggled in a CRLF).
        var injected = false
    }
    let seen = Mutex<[Seen]>([])
    let port = Mutex<Int?>(nil)
    let secret: String

    init(secret: String) { self.secret = secret }

    /// The service to run (answers per path: /ok, /text, /json, /errors, /big, /invalid, /slow, /fail, /noretry).
    func service() -> some ServiceLifecycle.Service {
        let router = Router()
        router.post("**") { [self] request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let timestamp = request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!] ?? ""
            let signature = request.headers[HTTPField.Name("X-Slack-Signature")!] ?? ""
            let valid = SlackRequestSignature.sign(secret: Array(secret.utf8), timestamp: timestamp, body: Array(body.utf8)) == signature
                && abs((Int(timestamp) ?? 0) - Int(Date().timeIntervalSince1970)) < 300
            let path = request.uri.path
            seen.withLock {
                $0.append(Seen(path: path, contentType: request.headers[.contentType] ?? "", body: body, signatureValid: valid,
                               retryNumber: request.headers[HTTPField.Name("X-Slack-Retry-Num")!],
                               retryReason: request.headers[HTTPField.Name("X-Slack-Retry-Reason")!],
                               userAgent: request.headers[.userAgent] ?? "",
                               injected: request.headers[HTTPField.Name("X-Injected")!] != nil))
            }
            func reply(_ status: HTTPResponse.Status, _ type: String, _ text: String, _ extra: HTTPFields = [:]) -> Response {
                var headers: HTTPFields = [.contentType: type]
                headers.append(contentsOf: extra)
                return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            }
            switch path {
            case "/text": return reply(.ok, "text/plain", "deploying api v2")
            case "/json": return reply(.ok, "application/json", #"{"response_type":"in_channel","text":"done"}"#)
            case "/errors": return reply(.ok, "application/json", #"{"response_action":"errors","errors":{"title":"too short"}}"#)
            case "/big": return reply(.ok, "application/json", #"{"text":""# + String(repeating: "x", count: 21_000) + #""}"#)
            case "/invalid": return reply(.ok, "application/json", #"{"text": "#)
            case "/slow":
                try await Task.sleep(for: .seconds(1.5))
                return reply(.ok, "application/json", #"{"text":"late"}"#)
            case "/fail": return reply(.internalServerError, "text/plain", "boom")
            case "/noretry": return reply(.internalServerError, "text/plain", "gone", [HTTPField.Name("X-Slack-No-Retry")!: "1"])
            default: return reply(.ok, "text/plain", "")
            }
        }
        return Application(router: router, configuration: ApplicationConfiguration(address: .hostname("127.0.0.1", port: 0)),
                           onServerRunning: { [self] channel in port.withLock { $0 = channel.localAddress?.port } })
    }
}

/// The ack payloads the simulator recorded (`GET /admin/responses`), each as JSON text.
func simResponses(_ sim: SimServer) async throws -> [String] {
    let url = URL(string: sim.apiBaseURL.replacingOccurrences(of: "/api/", with: "/admin/responses"))!
    let (data, _) = try await URLSession.shared.data(from: url)
    let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    return ((object?["responses"] as? [[String: Any]]) ?? []).map { entry in
        let value = entry["payload"] ?? entry["text"] ?? ""
        let data = (try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

@Suite("sockeyed HTTP forwarder (the bridge)", .serialized)
struct ForwarderTests {
    static let secret = "forwarder-test-secret"

    /// A daemon with one Socket Mode app whose events of each kind go to a forwarder with
    /// these paths; returns (daemon, running task, sim).
    func start(events: String, commands: String, actions: String, port: Int, timeout: Double = 2.5)
        throws -> (Daemon, Task<Void, any Error>, SimServer) {
        var options = SimServer.Options()
        options.config.pingInterval = 1
        options.config.timeScale = 30  // redeliveries after 0.1 s of protocol time scaled
        let sim = try SimServer(options)
        var app = AppSettings(name: "bridged", appToken: SimConfig().apps[0].appTokens[0], apiURL: sim.apiBaseURL)
        app.poolSize = 1
        app.routes = [Route(sinks: ["forward"])]
        let forward = HTTPForwardSettings(eventsURL: "http://127.0.0.1:\(port)\(events)", commandsURL: "http://127.0.0.1:\(port)\(commands)",
                                          actionsURL: "http://127.0.0.1:\(port)\(actions)", signingSecret: Self.secret,
                                          timeoutSeconds: timeout)
        let config = DaemonConfiguration(apps: [app], sinks: ["forward": .http(forward)], operationsAddress: nil)
        let daemon = try Daemon(configuration: config, logger: quietLogger, makeSink: { name, settings in
            guard case .http(let forward) = settings else { return nil }
            return HTTPForwarderSink(name: name, settings: forward, logger: quietLogger)
        })
        return (daemon, Task { try await daemon.run() }, sim)
    }

    @Test("events, slash commands and interactions arrive as Slack sends them in HTTP mode, signed; replies become ack payloads")
    func shapesAndReplies() async throws {
        let backend = BackendApp(secret: Self.secret)
        let server = Task { try await backend.service().run() }
        defer { server.cancel() }
        #expect(await eventually { backend.port.withLock { $0 } != nil })
        let port = try #require(backend.port.withLock { $0 })
        let (daemon, running, sim) = try start(events: "/ok", commands: "/text", actions: "/errors", port: port)
        defer { sim.stop() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 2)
        _ = sim.inject(kind: "slash_command", count: 1)
        _ = sim.inject(kind: "view_submission", count: 1)
        #expect(await eventually { sim.report().total.acked == 4 }, "\(sim.report().total)")
        let seen = backend.seen.withLock { $0 }
        #expect(seen.count == 4 && seen.allSatisfy(\.signatureValid), "\(seen)")
        #expect(seen.allSatisfy { $0.userAgent.contains("Sockeye") })
        let events = seen.filter { $0.path == "/ok" }
        #expect(events.count == 2 && events.allSatisfy { $0.contentType == "application/json" && $0.body.contains(#""type":"event_callback""#) })
        let command = try #require(seen.first { $0.path == "/text" })
        #expect(command.contentType == "application/x-www-form-urlencoded" && command.body.contains("command=%2F"), "\(command.body)")
        let action = try #require(seen.first { $0.path == "/errors" })
        #expect(action.contentType == "application/x-www-form-urlencoded" && action.body.hasPrefix("payload=%7B"), "\(action.body)")
        let responses = try await simResponses(sim)
        #expect(responses.contains { $0.contains(#""text":"deploying api v2""#) }, "\(responses)")
        #expect(responses.contains { $0.contains(#""response_action":"errors""#) }, "\(responses)")
        await daemon.stop()
        try await running.value
    }

    @Test("5xx nacks (Slack redelivers, with retry headers); X-Slack-No-Retry acks and drops; a late, invalid or oversize reply acks without a payload")
    func failures() async throws {
        let backend = BackendApp(secret: Self.secret)
        let server = Task { try await backend.service().run() }
        defer { server.cancel() }
        #expect(await eventually { backend.port.withLock { $0 } != nil })
        let port = try #require(backend.port.withLock { $0 })

        // Events to /fail: nacked, redelivered with X-Slack-Retry-Num until the sim gives up.
        var (daemon, running, sim) = try start(events: "/fail", commands: "/slow", actions: "/big", port: port, timeout: 0.5)
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 1)
        #expect(await eventually { backend.seen.withLock { $0.contains { $0.path == "/fail" && $0.retryNumber == "1" } } },
                "\(backend.seen.withLock { $0 }.map(\.path))")
        #expect(sim.report().total.redelivered >= 1, "\(sim.report().total)")
        let retried = try #require(backend.seen.withLock { $0.first { $0.retryNumber != nil } })
        #expect(retried.retryReason != nil && retried.signatureValid)

        // A slash command whose app answers after the timeout: acked without a response.
        _ = sim.inject(kind: "slash_command", count: 1)
        // An interaction answered with a body over Slack's 20 480-byte limit: acked without it.
        _ = sim.inject(kind: "block_actions", count: 1)
        #expect(await eventually { sim.report().total.acked >= 2 }, "\(sim.report().total)")
        #expect(!(try await simResponses(sim)).contains { $0.contains("late") || $0.contains("xxxx") })
        await daemon.stop()
        try await running.value
        sim.stop()

        (daemon, running, sim) = try start(events: "/noretry", commands: "/invalid", actions: "/ok", port: port)
        defer { sim.stop() }
        #expect(await eventually { sim.liveConnections(app: 0) == 1 })
        _ = sim.inject(kind: "message", count: 3)
        _ = sim.inject(kind: "slash_command", count: 1)
        #expect(await eventually { sim.report().total.acked == 4 }, "\(sim.report().total)")
        #expect(try await simResponses(sim).isEmpty)
        await daemon.stop()
        try await running.value
    }
}
