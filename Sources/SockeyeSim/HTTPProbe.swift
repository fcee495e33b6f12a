import Foundation
import SockeyeSlackSignature

/// Hostile or odd requests to an app's Request URL, for testing an HTTP ingress
/// (`POST /admin/http-probe`). Each request goes on a fresh connection
/// (`Connection: close`); the app's status and body are reported (status 0 and an
/// `error: …` body when the connection failed or no reply came within the deadline).
public enum HTTPProbe {
    /// The kinds of probe.
    public enum Kind: String, Sendable, CaseIterable {
        /// A valid event signed with the wrong secret.
        case badSignature = "bad_signature"
        /// A valid event with a timestamp but no `X-Slack-Signature`.
        case missingSignature = "missing_signature"
        /// Signed correctly, timestamp 6 minutes old.
        case staleTimestamp = "stale_timestamp"
        /// Signed correctly, timestamp 6 minutes ahead.
        case futureTimestamp = "future_timestamp"
        /// The same signed request (timestamp and body) sent twice.
        case replay
        /// A validly signed JSON event of exactly 2 MiB.
        case oversize
        /// A signed, truncated JSON body.
        case malformedJSON = "malformed_json"
        /// A signed form body with broken percent escapes, to the commands URL.
        case malformedForm = "malformed_form"
        /// A valid signed event whose body arrives in small pieces over 2 s.
        case slowBody = "slow_body"
        /// Events API `url_verification` with a fresh challenge.
        case urlVerification = "url_verification"
    }

    /// What the app answered, in send order.
    public struct Result: Sendable {
        public var statuses: [Int] = []
        public var bodies: [String] = []
        /// The challenges sent (`url_verification`).
        public var challenges: [String] = []
    }

    /// One request to send.
    struct Request {
        var target: RequestTarget
        var headers: [(String, String)]
        var body: [UInt8]
        var slow = false
    }

    /// Sends `count` probes of `kind` along `route`. `event` is a valid event body (JSON)
    /// for the app; `now` the Unix time for timestamps. Blocks until every reply is in.
    static func run(_ kind: Kind, count: Int, route: HTTPRoute, event: [UInt8], now: Int, timeout: Double = 10) -> Result {
        var result = Result()
        for _ in 0..<max(1, count) {
            var challenge: String?
            for r in requests(kind, route: route, event: event, now: now, challenge: &challenge) {
                let (status, body) = send(r, deadline: SimServer.monotonic() + timeout + (r.slow ? 2.5 : 0))
                result.statuses.append(status)
                result.bodies.append(body)
            }
            if let challenge { result.challenges.append(challenge) }
        }
        return result
    }

    /// The request(s) of one probe.
    static func requests(_ kind: Kind, route: HTTPRoute, event: [UInt8], now: Int, challenge: inout String?) -> [Request] {
        func signed(_ body: [UInt8], ts: Int, secret: String = route.secret, type: String = "application/json") -> [(String, String)] {
            [("Content-Type", type), ("X-Slack-Request-Timestamp", String(ts)),
             ("X-Slack-Signature", SlackRequestSignature.sign(secret: Array(secret.utf8), timestamp: String(ts), body: body))]
        }
        let events = route.eventsTarget
        switch kind {
        case .badSignature:
            return [Request(target: events, headers: signed(event, ts: now, secret: route.secret + "-wrong"), body: event)]
        case .missingSignature:
            return [Request(target: events, headers: [("Content-Type", "application/json"), ("X-Slack-Request-Timestamp", String(now))], body: event)]
        case .staleTimestamp:
            return [Request(target: events, headers: signed(event, ts: now - 360), body: event)]
        case .futureTimestamp:
            return [Request(target: events, headers: signed(event, ts: now + 360), body: event)]
        case .replay:
            let r = Request(target: events, headers: signed(event, ts: now), body: event)
            return [r, r]
        case .oversize:
            let body = oversizeEvent(like: event, bytes: 2 << 20)
            return [Request(target: events, headers: signed(body, ts: now), body: body)]
        case .malformedJSON:
            let body = Array(event.prefix(max(1, event.count / 2)))
            return [Request(target: events, headers: signed(body, ts: now), body: body)]
        case .malformedForm:
            let body = Array("token=sim-verification-token&command=%2Fdeploy%&text=%ZZ%E2%82&team_id=&&=".utf8)
            return [Request(target: route.commandsTarget, headers: signed(body, ts: now, type: "application/x-www-form-urlencoded"), body: body)]
        case .slowBody:
            return [Request(target: events, headers: signed(event, ts: now), body: event, slow: true)]
        case .urlVerification:
            var rng = FastRandom()
            let c = EnvelopeUUID.random(&rng).description.replacingOccurrences(of: "-", with: "")
            challenge = c
            let body = Array(#"{"token":"sim-verification-token","challenge":"\#(c)","type":"url_verification"}"#.utf8)
            return [Request(target: events, headers: signed(body, ts: now), body: body)]
        }
    }

    /// `event` with a `sim_padding` member added so that the body is exactly `bytes` long.
    static func oversizeEvent(like event: [UInt8], bytes: Int) -> [UInt8] {
        let head = Array(#"{"sim_padding":""#.utf8), tail = Array(#"","#.utf8)
        let rest = event.dropFirst() // the event without its opening brace
        let pad = max(0, bytes - head.count - tail.count - rest.count)
        return head + [UInt8](repeating: UInt8(ascii: "x"), count: pad) + tail + rest
    }

    /// Sends one request and reads the reply. A write the app cut short (it answered
    /// early, e.g. 413, and closed) still reads whatever reply arrived.
    static func send(_ r: Request, deadline: Double) -> (Int, String) {
        let stream: HTTPStream
        do { stream = try HTTPStream.open(r.target, deadline: deadline) } catch { return (0, "error: \(error)") }
        var head = "POST \(r.target.path) HTTP/1.1\r\nHost: \(r.target.hostHeader)\r\nContent-Length: \(r.body.count)\r\nConnection: close\r\n"
        head += "User-Agent: Slackbot 1.0 (+https://api.slack.com/robots)\r\n"
        for (k, v) in r.headers { head += "\(k): \(v)\r\n" }
        var writeError: Error?
        do {
            if r.slow {
                try stream.write(Array((head + "\r\n").utf8), deadline: deadline)
                // 20 pieces, 0.1 s apart: the body takes 2 s to arrive.
                let size = max(1, (r.body.count + 19) / 20)
                var at = 0
                while at < r.body.count {
                    Thread.sleep(forTimeInterval: 0.1)
                    try stream.write(Array(r.body[at..<min(r.body.count, at + size)]), deadline: deadline)
                    at += size
                }
            } else {
                try stream.write(Array((head + "\r\n").utf8) + r.body, deadline: deadline)
            }
        } catch {
            writeError = error
        }
        var buffer: [UInt8] = []
        while true {
            if let (reply, _) = try? HTTPReplyParser.parse(buffer, eof: false) {
                return (reply.status, String(decoding: reply.body, as: UTF8.self))
            }
            let n: Int
            do { n = try stream.read(into: &buffer, deadline: deadline) } catch {
                return (0, "error: \(writeError ?? error)")
            }
            if n == 0 {
                if let (reply, _) = try? HTTPReplyParser.parse(buffer, eof: true) {
                    return (reply.status, String(decoding: reply.body, as: UTF8.self))
                }
                return (0, "error: \(writeError.map { "\($0)" } ?? "connection closed without a reply")")
            }
        }
    }
}
