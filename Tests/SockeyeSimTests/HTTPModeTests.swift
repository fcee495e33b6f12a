import Foundation
import Testing
@testable import SockeyeSim

@Suite("HTTP delivery mode")
struct HTTPModeTests {
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"

    @Test("retry policy: 2xx acks; events retry 3 times with reasons; X-Slack-No-Retry and non-events fail at once")
    func policy() {
        let d: [Double] = [0, 60, 300]
        #expect(HTTPRetryPolicy.decide(attempt: 0, outcome: .status(200, noRetry: false), isEvent: true, delays: d) == .acked)
        #expect(HTTPRetryPolicy.decide(attempt: 0, outcome: .status(500, noRetry: false), isEvent: true, delays: d) == .retry(attempt: 1, delay: 0, reason: "http_error"))
        #expect(HTTPRetryPolicy.decide(attempt: 1, outcome: .timeout, isEvent: true, delays: d) == .retry(attempt: 2, delay: 60, reason: "http_timeout"))
        #expect(HTTPRetryPolicy.decide(attempt: 2, outcome: .connectionFailed, isEvent: true, delays: d) == .retry(attempt: 3, delay: 300, reason: "connection_failed"))
        #expect(HTTPRetryPolicy.decide(attempt: 3, outcome: .timeout, isEvent: true, delays: d) == .failed(noRetry: false))
        #expect(HTTPRetryPolicy.decide(attempt: 0, outcome: .status(500, noRetry: true), isEvent: true, delays: d) == .failed(noRetry: true))
        #expect(HTTPRetryPolicy.decide(attempt: 0, outcome: .status(500, noRetry: false), isEvent: false, delays: d) == .failed(noRetry: false))
    }

    @Test("events as signed JSON, slash commands form-encoded, interactivity as payload= form field")
    func encodings() throws {
        let app = TestRequestURL { _, _ in (200, [:], "", 0) }
        defer { app.stop() }
        let sim = try httpSim("http://127.0.0.1:\(app.port)/slack/events")
        defer { sim.stop() }
        #expect(sim.inject(kind: "app_mention"))
        #expect(sim.inject(kind: "slash_command"))
        #expect(sim.inject(kind: "block_actions"))
        let deadline = Date().addingTimeInterval(5)
        while app.received.count < 3, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let reqs = app.received
        #expect(reqs.count == 3)
        #expect(reqs.allSatisfy(signatureVerifies))
        let event = try #require(reqs.first { $0.headers["content-type"] == "application/json" })
        #expect(Harness.json(event.body)["type"] as? String == "event_callback")
        let command = try #require(reqs.first { $0.body.contains("command=") })
        #expect(command.headers["content-type"] == "application/x-www-form-urlencoded")
        #expect(command.body.contains("command=%2Fdeploy"))
        #expect(WebAPI.form(Array(command.body.utf8))["text"] == "api prod 🚀")
        let action = try #require(reqs.first { $0.body.hasPrefix("payload=") })
        let payload = try #require(WebAPI.form(Array(action.body.utf8))["payload"])
        #expect(Harness.json(payload)["type"] as? String == "block_actions")
        let deadline2 = Date().addingTimeInterval(5)
        while sim.report().http?.acked != 3, Date() < deadline2 { Thread.sleep(forTimeInterval: 0.02) }
        #expect(sim.report().http?.acked == 3)
    }

    @Test("failed event deliveries are retried with X-Slack-Retry-Num/Reason; X-Slack-No-Retry stops them")
    func retries() throws {
        // First two attempts fail (500, then a timeout), the third succeeds.
        let app = TestRequestURL { n, _ in n == 1 ? (500, [:], "", 0) : n == 2 ? (200, [:], "", 0.6) : (200, [:], "", 0) }
        defer { app.stop() }
        let sim = try httpSim("http://127.0.0.1:\(app.port)/slack/events") { $0.ackDeadline = 0.3; $0.retryDelays = [0, 0.1, 0.1] }
        defer { sim.stop() }
        sim.inject(kind: "reaction_added")
        let deadline = Date().addingTimeInterval(5)
        while sim.report().http?.acked != 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let reqs = app.received
        #expect(reqs.count == 3)
        #expect(reqs[0].headers["x-slack-retry-num"] == nil)
        #expect(reqs[1].headers["x-slack-retry-num"] == "1")
        #expect(reqs[1].headers["x-slack-retry-reason"] == "http_error")
        #expect(reqs[2].headers["x-slack-retry-num"] == "2")
        #expect(reqs[2].headers["x-slack-retry-reason"] == "http_timeout")
        #expect(Set(reqs.map { Harness.json($0.body)["event_id"] as? String ?? "" }).count == 1)

        let refusing = TestRequestURL { _, _ in (503, ["X-Slack-No-Retry": "1"], "", 0) }
        defer { refusing.stop() }
        let sim2 = try httpSim("http://127.0.0.1:\(refusing.port)/slack/events") { $0.retryDelays = [0, 0, 0] }
        defer { sim2.stop() }
        sim2.inject(kind: "message")
        let d2 = Date().addingTimeInterval(5)
        while sim2.report().http?.failed != 1, Date() < d2 { Thread.sleep(forTimeInterval: 0.02) }
        Thread.sleep(forTimeInterval: 0.2)
        #expect(refusing.received.count == 1)
        #expect(sim2.report().http?.noRetry == 1)
    }

    @Test("injected payloads carry the api_app_id and team of the app they are injected for")
    func perAppIdentity() throws {
        let app = TestRequestURL { _, _ in (200, [:], "", 0) }
        defer { app.stop() }
        let sim = try httpSim("http://127.0.0.1:\(app.port)/slack/events") { $0.apps.append(otherWorkspaceApp) }
        defer { sim.stop() }
        #expect(sim.inject(kind: "app_mention", app: 1))
        #expect(sim.inject(kind: "slash_command", app: 1))
        #expect(sim.inject(kind: "block_actions", app: 1))
        #expect(sim.inject(kind: "app_mention", app: 0))
        #expect(!sim.inject(kind: "app_mention", app: 2))
        let deadline = Date().addingTimeInterval(5)
        while app.received.count < 4, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let reqs = app.received
        #expect(reqs.count == 4)
        let events = reqs.filter { $0.headers["content-type"] == "application/json" }.map { Harness.json($0.body) }
        #expect(Set(events.compactMap { $0["api_app_id"] as? String }) == ["A0SIMAPP01", "A0SIMAPP02"])
        #expect(events.allSatisfy { ($0["api_app_id"] as? String == "A0SIMAPP02") == ($0["team_id"] as? String == "T0SIM0002") })
        let command = WebAPI.form(Array(try #require(reqs.first { $0.body.contains("command=") }).body.utf8))
        #expect(command["api_app_id"] == "A0SIMAPP02" && command["team_id"] == "T0SIM0002")
        let action = try #require(reqs.first { $0.body.hasPrefix("payload=") })
        let payload = Harness.json(try #require(WebAPI.form(Array(action.body.utf8))["payload"]))
        #expect(payload["api_app_id"] as? String == "A0SIMAPP02")
        #expect((payload["team"] as? [String: Any])?["id"] as? String == "T0SIM0002")
    }

    @Test("url_verification succeeds only when the challenge is echoed")
    func urlVerification() throws {
        let echo = TestRequestURL { _, r in (200, [:], Harness.json(r.body)["challenge"] as? String ?? "", 0) }
        defer { echo.stop() }
        let good = try httpSim("http://127.0.0.1:\(echo.port)/")
        defer { good.stop() }
        #expect(good.http?.verifyURL() == true)
        let wrong = TestRequestURL { _, _ in (200, [:], "nope", 0) }
        defer { wrong.stop() }
        let bad = try httpSim("http://127.0.0.1:\(wrong.port)/")
        defer { bad.stop() }
        #expect(bad.http?.verifyURL() == false)
    }
}
