import Foundation
import Testing
@testable import SockeyeSim

/// App `i` of a many-apps config: `A0SIMAPP01` (the default) is index 0.
func numberedApp(_ i: Int) -> SimConfig.App {
    let id = String(format: "A0SIMAPP%02d", i + 1)
    return SimConfig.App(appID: id, appTokens: ["xapp-1-\(id)-1-simsecret"])
}

/// A harness whose config has `count` apps (`numberedApp(0..<count)`).
func manyAppsHarness(_ count: Int, _ configure: (inout SimConfig) -> Void = { _ in }) throws -> Harness {
    try Harness {
        $0.apps = (0..<count).map(numberedApp)
        configure(&$0)
    }
}

/// Acks envelopes until `count` were acked or `timeout` passes; counts those whose payload
/// carries another app's `api_app_id` than `appID`.
func ackAll(_ ws: TestWebSocket, count: Int, appID: String, timeout: Double = 30) -> (acked: Int, wrongApp: Int) {
    var acked = 0, wrongApp = 0
    let deadline = Date().addingTimeInterval(timeout)
    while acked < count, Date() < deadline {
        guard let f = try? ws.next(timeout: 1) else { continue }
        let env = Harness.json(f.text)
        guard let id = env["envelope_id"] as? String else { continue }
        if (env["payload"] as? [String: Any])?["api_app_id"] as? String != appID { wrongApp += 1 }
        ws.sendText(#"{"envelope_id":"\#(id)"}"#)
        acked += 1
    }
    return (acked, wrongApp)
}

/// Acks on one thread per connection (each app's client acks on its own, as real ones do).
func ackInParallel(_ clients: [(TestWebSocket, String)], counts: [Int], timeout: Double = 30) -> [(acked: Int, wrongApp: Int)] {
    let results = (0..<clients.count).map { _ in ResultBox<(acked: Int, wrongApp: Int)>() }
    let group = DispatchGroup()
    for (i, (ws, appID)) in clients.enumerated() {
        let client = UncheckedBox(value: ws)
        group.enter()
        Thread {
            results[i].value = ackAll(client.value, count: counts[i], appID: appID, timeout: timeout)
            group.leave()
        }.start()
    }
    group.wait()
    return results.map { $0.value ?? (0, 0) }
}

/// Serialized: each run keeps a client thread per app busy; one run at a time keeps a small
/// machine from starving one run's clients for another's.
@Suite("One load run spread over several apps (LoadSpec.apps, --load-apps)", .serialized)
struct LoadAppsTests {
    @Test("window mode over 10 apps × 1 connection: 5 000 envelopes round-robin, each app acks exactly 500 of its own, nothing lost")
    func tenAppsWindow() throws {
        let h = try manyAppsHarness(10)
        var clients: [(TestWebSocket, String)] = []
        for i in 0..<10 {
            let app = numberedApp(i)
            let (ws, hello) = try h.connect(token: app.appTokens[0])
            #expect((hello["connection_info"] as? [String: Any])?["app_id"] as? String == app.appID)
            clients.append((ws, app.appID))
        }
        #expect(h.server.startLoad(LoadSpec(window: 200, total: 5000, sizes: [512, 1024], apps: Array(0..<10))))
        let results = ackInParallel(clients, counts: Array(repeating: 500, count: 10), timeout: 60)
        #expect(results.map(\.acked) == Array(repeating: 500, count: 10))
        #expect(results.map(\.wrongApp) == Array(repeating: 0, count: 10))

        let deadline = Date().addingTimeInterval(10)
        while !h.server.loadDone(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(h.server.loadDone())
        let r = h.server.report()
        #expect(r.total.acked == 5000 && r.total.delivered == 5000)
        #expect(r.lost == 0)
        #expect(r.verdict.hasPrefix("no envelope lost"))
        let per = try #require(r.loadApps)
        #expect(per.map(\.index) == Array(0..<10))
        #expect(per.map(\.app) == (0..<10).map { numberedApp($0).appID })
        #expect(per.map(\.issued) == Array(repeating: 500, count: 10))
        #expect(per.map(\.acked) == Array(repeating: 500, count: 10))
        #expect(per.map(\.lost) == Array(repeating: 0, count: 10))
        #expect(r.connections.map(\.counters.acked) == Array(repeating: 500, count: 10))
        #expect(r.table().contains("load over 10 apps: acked 500–500 per app, lost 0"))
        #expect(r.json().contains("\"loadApps\""))
    }

    @Test("the window counts envelopes in flight across all the run's apps, issued round-robin")
    func windowSpansApps() throws {
        let h = try manyAppsHarness(3)
        let clients = try (0..<3).map { try h.connect(token: numberedApp($0).appTokens[0]).0 }
        #expect(h.server.startLoad(LoadSpec(window: 6, total: 60, kinds: ["message", "app_mention"], apps: [2, 0, 1])))
        // Nothing acked: the window stops the run at 6 envelopes for all apps together, 2 each.
        var appIDs: [[String]] = [[], [], []]
        var eventTypes: [[String]] = [[], [], []]
        var ids: [[String]] = [[], [], []]
        for (i, ws) in clients.enumerated() {
            while let f = try? ws.next(timeout: 0.3) {
                let env = Harness.json(f.text)
                guard let id = env["envelope_id"] as? String else { continue }
                ids[i].append(id)
                let payload = env["payload"] as? [String: Any]
                appIDs[i].append(payload?["api_app_id"] as? String ?? "?")
                eventTypes[i].append((payload?["event"] as? [String: Any])?["type"] as? String ?? "?")
            }
        }
        #expect(ids.map(\.count) == [2, 2, 2])
        #expect(h.report().inFlight == 6)
        // Each app's envelopes carry its own identity, and each app goes through the whole
        // mix in turn (not every third kind of one shared sequence).
        for i in 0..<3 {
            #expect(appIDs[i] == [numberedApp(i).appID, numberedApp(i).appID])
            #expect(eventTypes[i] == ["message", "app_mention"])
        }
        for (i, ws) in clients.enumerated() { for id in ids[i] { ws.sendText(#"{"envelope_id":"\#(id)"}"#) } }
        let rest = ackInParallel(clients.enumerated().map { ($1, numberedApp($0).appID) }, counts: [18, 18, 18], timeout: 20)
        #expect(rest.map(\.acked) == [18, 18, 18])
        #expect(rest.map(\.wrongApp) == [0, 0, 0])
        let r = h.wait { $0.total.acked == 60 }
        #expect(r.loadApps?.map(\.index) == [2, 0, 1])
        #expect(r.loadApps?.map(\.acked) == [20, 20, 20])
    }

    @Test("an app without a connection gets its envelopes queued without stalling the others; they arrive after its hello")
    func unconnectedAppQueues() throws {
        let h = try manyAppsHarness(3)
        let a = try h.connect(token: numberedApp(0).appTokens[0]).0
        let b = try h.connect(token: numberedApp(1).appTokens[0]).0
        #expect(h.server.startLoad(LoadSpec(window: 10, total: 300, sizes: [512], apps: [0, 1, 2])))
        let first = ackInParallel([(a, numberedApp(0).appID), (b, numberedApp(1).appID)], counts: [100, 100], timeout: 20)
        #expect(first.map(\.acked) == [100, 100])
        // The clients' last acks may still be on their way when they return.
        var r = h.wait { $0.queued == 100 && $0.total.acked == 200 }
        #expect(r.queued == 100)
        #expect(!h.server.loadDone())
        #expect(r.loadApps?.map(\.issued) == [100, 100, 100])
        #expect(r.loadApps?.map(\.acked) == [100, 100, 0])

        let c = try h.connect(token: numberedApp(2).appTokens[0]).0
        #expect(ackAll(c, count: 100, appID: numberedApp(2).appID, timeout: 20) == (100, 0))
        r = h.wait { $0.total.acked == 300 }
        let deadline = Date().addingTimeInterval(5)
        while !h.server.loadDone(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(h.server.loadDone())
        #expect(r.loadApps?.map(\.acked) == [100, 100, 100])
        #expect(r.lost == 0)
    }

    @Test("without queueWhileDisconnected an unconnected app's events are lost, reported per app, and the run still finishes")
    func unconnectedAppLosses() throws {
        let h = try manyAppsHarness(3) { $0.queueWhileDisconnected = false }
        let a = try h.connect(token: numberedApp(0).appTokens[0]).0
        let c = try h.connect(token: numberedApp(2).appTokens[0]).0
        #expect(h.server.startLoad(LoadSpec(window: 10, total: 90, sizes: [512], apps: [0, 1, 2])))
        let acked = ackInParallel([(a, numberedApp(0).appID), (c, numberedApp(2).appID)], counts: [30, 30], timeout: 20)
        #expect(acked.map(\.acked) == [30, 30])
        let deadline = Date().addingTimeInterval(5)
        while !h.server.loadDone(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(h.server.loadDone())
        let r = h.server.report()
        #expect(r.loadApps?.map(\.acked) == [30, 0, 30])
        #expect(r.loadApps?.map(\.lost) == [0, 30, 0])
        #expect(r.lost == 30)
        #expect(r.table().contains("A0SIMAPP02 (30)"))
    }

    @Test("rate mode over 3 apps keeps the one-app schedule: paced, spread round-robin, the service thread sleeps between sends")
    func rateOverThreeApps() throws {
        // A long ack deadline: on a crowded machine (ThreadSanitizer, parallel suites) late
        // acks would turn into retries, which the clients would count as envelopes.
        let h = try manyAppsHarness(3) { $0.ackDeadline = 30 }
        let clients = try (0..<3).map { (try h.connect(token: numberedApp($0).appTokens[0]).0, numberedApp($0).appID) }
        let total = 2000
        let server = h.server
        let passesBefore = server.sync { _, _ in server.servicePasses }
        let results = ResultBox<[(acked: Int, wrongApp: Int)]>()
        let done = DispatchSemaphore(value: 0)
        let boxed = UncheckedBox(value: clients)
        Thread {
            results.value = ackInParallel(boxed.value, counts: [667, 667, 666], timeout: 30)
            done.signal()
        }.start()
        #expect(server.startLoad(LoadSpec(rate: 1000, total: total, sizes: [1024], apps: [0, 1, 2])))
        done.wait()
        let acked = try #require(results.value)
        #expect(acked.map(\.acked) == [667, 667, 666])
        #expect(acked.map(\.wrongApp) == [0, 0, 0])
        let deadline = Date().addingTimeInterval(5)
        while !server.loadDone(), Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let passes = server.sync { _, _ in server.servicePasses } - passesBefore
        let r = server.report()
        #expect(r.total.acked == total)
        #expect(r.loadApps?.map(\.acked) == [667, 667, 666])
        // Paced: the last envelope is due (total - 1) / rate after the start and the run ends
        // with its ack, so a run that kept to the schedule (or fell behind it) cannot be
        // shorter; one that sent ahead of it would be. How far behind the sends fell is a
        // speed figure that a busy machine moves (the service thread waits for a core):
        // benchmarks/sim-load.sh prints it (`max send lag`, with LOAD_APPS for several apps).
        #expect(r.elapsedSeconds >= Double(total - 1) / 1000 - 0.001, "elapsed \(r.elapsedSeconds) s")
        let lag = try #require(r.maxSendLagMs)
        let busy = try #require(r.simBusyFraction)
        #expect(lag >= 0)
        #expect(r.saturated == LoadVerdict.rate(maxLag: lag / 1000, busy: busy), "max send lag \(lag) ms, busy \(busy)")
        // CPU time over wall time: waiting for a core lowers it, only spinning raises it.
        #expect(busy < 0.5, "service thread busy \(busy)")
        #expect(Double(passes) / Double(total) < 10, "\(passes) service-loop passes for \(total) envelopes")
    }

    @Test("--load-apps takes all or a comma list; unknown or repeated indices, junk and --load-app together are refused")
    func commandLineValidation() throws {
        #expect(try LoadSpec.commandLineApps(loadApp: nil, loadApps: nil, appCount: 3) == (0, nil))
        #expect(try LoadSpec.commandLineApps(loadApp: 2, loadApps: nil, appCount: 3) == (2, nil))
        #expect(try LoadSpec.commandLineApps(loadApp: nil, loadApps: "all", appCount: 3) == (nil, [0, 1, 2]))
        #expect(try LoadSpec.commandLineApps(loadApp: nil, loadApps: "2, 0", appCount: 3) == (nil, [2, 0]))

        func refusal(_ app: Int?, _ apps: String?) -> LoadRefusal? {
            do throws(LoadRefusal) { _ = try LoadSpec.commandLineApps(loadApp: app, loadApps: apps, appCount: 3); return nil }
            catch { return error }
        }
        #expect(refusal(0, "1,2")?.code == "invalid_arguments")
        #expect(refusal(0, "1,2")?.message.contains("mutually exclusive") == true)
        #expect(refusal(nil, "0,3")?.code == "unknown_app")
        #expect(refusal(nil, "0,3")?.message == "--load-apps 0,3: app 3, but the config has 3 app(s)")
        #expect(refusal(nil, "-1")?.code == "unknown_app")
        #expect(refusal(nil, "0,x")?.code == "invalid_arguments")
        #expect(refusal(nil, "")?.code == "invalid_arguments")
        #expect(refusal(nil, "1,1")?.message.contains("listed twice") == true)
        #expect(refusal(5, nil)?.code == "unknown_app")
    }

    @Test("admin load: apps validated (unknown index, with app, empty); several apps with one in HTTP mode are refused with a message")
    func adminValidationAndHTTP() throws {
        let h = try manyAppsHarness(3)
        func load(_ body: String) throws -> [String: Any] { try TestHTTP.admin(h.port, "/admin/load", body).json }
        let unknown = try load(#"{"window":10,"total":10,"apps":[0,9]}"#)
        #expect(unknown["error"] as? String == "unknown_app")
        #expect(unknown["message"] as? String == "app 9, but the config has 3 app(s)")
        #expect(try load(#"{"window":10,"total":10,"app":0,"apps":[1,2]}"#)["error"] as? String == "invalid_arguments")
        #expect(try load(#"{"window":10,"total":10,"apps":[]}"#)["error"] as? String == "invalid_arguments")

        let switched = try TestHTTP.admin(h.port, "/admin/delivery", #"{"app":1,"mode":"http","request_url":"http://127.0.0.1:9/slack/events"}"#)
        #expect(switched.json["mode"] as? String == "http")
        let refused = try load(#"{"window":10,"total":10,"apps":[0,1,2]}"#)
        #expect(refused["error"] as? String == "invalid_arguments")
        #expect(refused["message"] as? String == "app 1 is in HTTP delivery mode: a load run over several apps is Socket Mode only")
        #expect(throws: LoadRefusal.self) { try h.server.startLoadOrExplain(LoadSpec(total: 10, apps: [1, 2])) }
        #expect(h.report().loadApps == nil)
        // The Socket Mode apps of the list alone are fine.
        let (ws, _) = try h.connect()
        #expect(try load(#"{"window":5,"total":5,"apps":[0,2]}"#)["ok"] as? Bool == true)
        #expect(ackAll(ws, count: 3, appID: numberedApp(0).appID, timeout: 10) == (3, 0))
    }

    @Test("a scenario's load step takes apps; a bad list is a parse error")
    func scenarioApps() throws {
        let three = SimConfig.App(appID: "A0SIMAPP03", appTokens: ["xapp-1-A0SIMAPP03-1-simsecret"])
        var base = SimConfig()
        base.apps = [numberedApp(0), numberedApp(1), three]
        let ok = try Scenario.parse("steps:\n  - at: 0\n    load: { window: 10, total: 30, apps: [0, 2] }\n", base: base)
        #expect(ok.steps.first?.load?.apps == [0, 2])
        #expect(throws: SimError.self) {
            _ = try Scenario.parse("steps:\n  - at: 0\n    load: { window: 10, total: 30, apps: [0, 5] }\n", base: base)
        }
        #expect(throws: SimError.self) {
            _ = try Scenario.parse("steps:\n  - at: 0\n    load: { total: 30, app: 0, apps: [1] }\n", base: base)
        }
    }
}
