import Foundation
import SockeyeSim
import SockeyeSinkKit
import Testing

@testable import SockeyeDaemon

/// Listeners are bound at start; a reload says what it cannot change and refuses what would
/// leave an app without the listener it needs.
@Suite("sockeyed reload and the listeners")
struct ListenerReloadTests {
    private func app(_ name: String, delivery: AppSettings.DeliveryMode) -> AppSettings {
        var settings = AppSettings(name: name, appToken: "xapp-1-A0LISTEN01-1-s")
        settings.delivery = delivery
        settings.signingSecret = "secret"
        settings.routes = [Route(sinks: ["file"])]
        return settings
    }

    private func configuration(_ apps: [AppSettings], publicAddress: String? = nil) -> DaemonConfiguration {
        var configuration = DaemonConfiguration(apps: apps, sinks: ["file": .file(path: "/dev/null")], operationsAddress: "127.0.0.1:9464")
        configuration.listeners.publicAddress = publicAddress
        return configuration
    }

    @Test("an app taking HTTP requests is refused when sockeyed started without a public listener")
    func httpAppNeedsRunningPublicListener() {
        let started = ListenersAtStart(configuration([app("a", delivery: .socket)]))
        let refusal = started.refusal(of: configuration([app("a", delivery: .socket), app("b", delivery: .http)], publicAddress: "127.0.0.1:3000"))
        #expect(refusal?.contains("app(s) b take HTTP requests") == true, "\(refusal ?? "nil")")
        #expect(started.refusal(of: configuration([app("a", delivery: .both)])) != nil)
        // A disabled one needs nothing; with the listener running, nothing is refused.
        var disabled = app("b", delivery: .http)
        disabled.enabled = false
        #expect(started.refusal(of: configuration([app("a", delivery: .socket), disabled])) == nil)
        let withPublic = ListenersAtStart(configuration([app("b", delivery: .http)], publicAddress: "127.0.0.1:3000"))
        #expect(withPublic.refusal(of: configuration([app("b", delivery: .http), app("c", delivery: .both)], publicAddress: "127.0.0.1:3000")) == nil)
    }

    @Test("changed listener settings are named as taking effect at the next start")
    func changesNamed() {
        let base = configuration([app("b", delivery: .http)], publicAddress: "127.0.0.1:3000")
        let started = ListenersAtStart(base)
        #expect(started.changesIgnored(by: base).isEmpty)
        var moved = base
        moved.listeners.publicAddress = "0.0.0.0:3000"
        moved.operationsAddress = "127.0.0.1:9999"
        moved.listeners.allowedHosts = ["ops.example.com"]
        moved.listeners.publicLimits.maxConnections = 10
        #expect(started.changesIgnored(by: moved) == ["operations.listen", "operations.allowed_hosts", "public.listen", "public limits"])
    }

    @Test("Daemon.reload refuses an HTTP app without a running public listener, and keeps what runs")
    func daemonRefuses() async throws {
        let sim = try SimServer(SimServer.Options())
        defer { sim.stop() }
        var socketApp = app("a", delivery: .socket)
        socketApp.appToken = sim.options.config.apps.first?.appTokens.first ?? "xapp-1-A0SIMAPP01-1-simsecret"
        socketApp.apiURL = sim.apiBaseURL
        let daemon = try Daemon(configuration: configuration([socketApp]), logger: quietLogger)
        await #expect(throws: DaemonError.self) {
            try await daemon.reload(configuration([socketApp, app("b", delivery: .http)], publicAddress: "127.0.0.1:3000"))
        }
        #expect(daemon.runners.map(\.settings.name) == ["a"])
    }
}
