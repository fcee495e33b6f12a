import SockeyeDaemon
import Testing

/// The decisions behind sockeyed's notifications to systemd (Type=notify): what the
/// environment asks for, what is sent when, and when the watchdog is fed.
@Suite("service manager notifications")
struct ServiceNotificationTests {
    static let figures = ServiceStatus(apps: 3, appsReady: 2, connections: 4, targetConnections: 6)

    // MARK: The environment

    @Test("NOTIFY_SOCKET: a path, an abstract name after @, or nothing usable")
    func addresses() {
        #expect(ServiceManagerEnvironment(environment: [:], pid: 7) == nil)
        #expect(ServiceManagerEnvironment(environment: ["NOTIFY_SOCKET": ""], pid: 7) == nil)
        #expect(ServiceManagerEnvironment(environment: ["NOTIFY_SOCKET": "/run/systemd/notify"], pid: 7)?.address
            == .path("/run/systemd/notify"))
        #expect(ServiceManagerEnvironment(environment: ["NOTIFY_SOCKET": "@sd-notify/1"], pid: 7)?.address == .abstract("sd-notify/1"))
        for unusable in ["@", "relative/path", "vsock:2:1234", "/" + String(repeating: "x", count: 107)] {
            #expect(ServiceManagerEnvironment(environment: ["NOTIFY_SOCKET": unusable], pid: 7) == nil, "\(unusable)")
            #expect(ServiceManagerEnvironment.ignoredAddress(["NOTIFY_SOCKET": unusable]) != nil, "\(unusable)")
        }
        #expect(ServiceManagerEnvironment.ignoredAddress(["NOTIFY_SOCKET": "/run/systemd/notify"]) == nil)
        #expect(ServiceManagerEnvironment.ignoredAddress([:]) == nil)
        // The longest path that fits sun_path with its NUL.
        let longest = "/" + String(repeating: "x", count: 106)
        #expect(ServiceManagerEnvironment(environment: ["NOTIFY_SOCKET": longest], pid: 7)?.address == .path(longest))
    }

    @Test("WATCHDOG_USEC is ours when WATCHDOG_PID is unset or our PID; a bad value is ignored and said")
    func watchdog() {
        let socket = ["NOTIFY_SOCKET": "/run/systemd/notify"]
        func settings(_ extra: [String: String]) -> ServiceManagerEnvironment? {
            ServiceManagerEnvironment(environment: socket.merging(extra) { _, new in new }, pid: 4242)
        }
        #expect(settings([:])?.watchdogInterval == nil)
        #expect(settings(["WATCHDOG_USEC": "30000000"])?.watchdogInterval == .seconds(30))
        #expect(settings(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"])?.watchdogInterval == .seconds(30))
        // Inherited from a parent the manager watches: not ours to feed.
        #expect(settings(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"])?.watchdogInterval == nil)
        #expect(settings(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"])?.ignored == [])
        for bad in [["WATCHDOG_USEC": "0"], ["WATCHDOG_USEC": "-5"], ["WATCHDOG_USEC": "30s"],
                    ["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "me"]] {
            let made = settings(bad)
            #expect(made != nil && made?.watchdogInterval == nil && made?.ignored.count == 1, "\(bad)")
        }
    }

    // MARK: What is sent when

    @Test("READY waits for the listeners and every app, with the figures as STATUS")
    func ready() {
        var notifications = ServiceNotifications()
        #expect(notifications.start(StartProgress(listenersBound: false, appsNotStarted: []), status: Self.figures,
                                    elapsed: .seconds(1)) == nil)
        #expect(notifications.start(StartProgress(listenersBound: true, appsNotStarted: ["a"]), status: Self.figures,
                                    elapsed: .seconds(1)) == nil)
        #expect(notifications.phase == .starting)
        let ready = notifications.start(StartProgress(listenersBound: true, appsNotStarted: []), status: Self.figures,
                                        elapsed: .seconds(1))
        #expect(ready?.notification.datagram == "READY=1\nSTATUS=apps ready 2/3, Socket Mode connections 4/6")
        #expect(ready?.late == false)
        #expect(notifications.phase == .running)
        // Once.
        #expect(notifications.start(StartProgress(listenersBound: true, appsNotStarted: []), status: Self.figures,
                                    elapsed: .seconds(2)) == nil)
    }

    @Test("a start past its deadline is declared done, saying what had not started")
    func lateStart() {
        var notifications = ServiceNotifications()
        let ready = notifications.start(StartProgress(listenersBound: false, appsNotStarted: ["billing", "ops\nbot"]),
                                        status: Self.figures, elapsed: ServiceNotifications.startDeadline)
        #expect(ready?.late == true)
        let fields = ready?.notification.fields ?? []
        #expect(fields.first == "READY=1")
        #expect(fields.count == 2 && fields[1].hasPrefix("STATUS=") && fields[1].contains("a listener, app billing, app ops bot"))
        #expect(!(ready?.notification.datagram.dropFirst("READY=1\n".count).contains("\n") ?? true), "one STATUS line")
    }

    @Test("a reload: RELOADING with the monotonic time, then READY, whether applied, refused or nothing to read")
    func reload() {
        var notifications = ServiceNotifications()
        // Before READY a SIGHUP says nothing (it must not end the start early).
        #expect(notifications.reload(.began, status: Self.figures, monotonicMicroseconds: 5) == nil)
        #expect(notifications.reload(.ended(.applied), status: Self.figures, monotonicMicroseconds: 6) == nil)
        _ = notifications.start(StartProgress(listenersBound: true, appsNotStarted: []), status: Self.figures, elapsed: .zero)
        for (outcome, note) in [(ReloadOutcome.applied, ""), (.refused, "refused"), (.nothingToReload, "no configuration file")] {
            let began = notifications.reload(.began, status: Self.figures, monotonicMicroseconds: 123_456_789)
            #expect(began?.fields == ["RELOADING=1", "MONOTONIC_USEC=123456789", "STATUS=reloading the configuration"])
            #expect(notifications.phase == .reloading)
            // No STATUS of the figures while reloading.
            #expect(notifications.update(ServiceStatus(apps: 1, appsReady: 0, connections: 0, targetConnections: 1)) == nil)
            let ended = notifications.reload(.ended(outcome), status: Self.figures, monotonicMicroseconds: 123_456_999)
            #expect(ended?.fields.first == "READY=1")
            #expect(ended?.fields.last?.hasPrefix("STATUS=apps ready 2/3") == true)
            #expect(note.isEmpty ? ended?.fields.last?.contains(";") == false : ended?.fields.last?.contains(note) == true)
            #expect(notifications.phase == .running)
        }
        // An end without a beginning says nothing.
        #expect(notifications.reload(.ended(.applied), status: Self.figures, monotonicMicroseconds: 1) == nil)
    }

    @Test("STOPPING once, from any phase; nothing after it but silence")
    func stopping() {
        var starting = ServiceNotifications()
        #expect(starting.stopping()?.fields.first == "STOPPING=1")
        var notifications = ServiceNotifications()
        _ = notifications.start(StartProgress(listenersBound: true, appsNotStarted: []), status: Self.figures, elapsed: .zero)
        _ = notifications.reload(.began, status: Self.figures, monotonicMicroseconds: 1)
        #expect(notifications.stopping()?.fields.first == "STOPPING=1")
        #expect(notifications.stopping() == nil)
        #expect(notifications.reload(.ended(.applied), status: Self.figures, monotonicMicroseconds: 2) == nil)
        #expect(notifications.update(ServiceStatus(apps: 1, appsReady: 1, connections: 1, targetConnections: 1)) == nil)
        #expect(notifications.start(StartProgress(listenersBound: true, appsNotStarted: []), status: Self.figures,
                                    elapsed: .zero) == nil)
    }

    @Test("STATUS goes out when the figures change, not on every look")
    func statusUpdates() {
        var notifications = ServiceNotifications()
        #expect(notifications.update(Self.figures) == nil, "nothing before READY")
        _ = notifications.start(StartProgress(listenersBound: true, appsNotStarted: []), status: Self.figures, elapsed: .zero)
        #expect(notifications.update(Self.figures) == nil)
        let changed = ServiceStatus(apps: 3, appsReady: 3, connections: 6, targetConnections: 6)
        #expect(notifications.update(changed)?.datagram == "STATUS=apps ready 3/3, Socket Mode connections 6/6")
        #expect(notifications.update(changed) == nil)
    }

    // MARK: The watchdog

    @Test("the watchdog pings only when the service thread answered the last probe")
    func watchdogPings() {
        var watchdog = ServiceWatchdog(interval: .seconds(2))
        #expect(watchdog.calm == .seconds(1))
        let start = ContinuousClock.now
        let first = watchdog.look(answered: false, now: start)
        #expect(first.ping && first.probe && first.next == .seconds(1) && first.log == nil)
        let answered = watchdog.look(answered: true, now: start + .seconds(1))
        #expect(answered.ping && answered.probe && answered.log == nil)
        // The probe sent at 1 s is not answered: no ping, looks come quicker.
        let waiting = watchdog.look(answered: false, now: start + .seconds(1) + .milliseconds(300))
        #expect(!waiting.ping && !waiting.probe && waiting.next < .seconds(1) && waiting.log == nil)
        // Half the interval without an answer: logged once.
        let stalled = watchdog.look(answered: false, now: start + .seconds(2))
        #expect(!stalled.ping && stalled.log == .stalled(.seconds(1)))
        #expect(watchdog.look(answered: false, now: start + .seconds(3)).log == nil)
        #expect(!watchdog.look(answered: false, now: start + .seconds(4)).ping)
        // It answers again: a ping, a new probe, and the end of the stall logged.
        let recovered = watchdog.look(answered: true, now: start + .seconds(4) + .milliseconds(100))
        #expect(recovered.ping && recovered.probe && recovered.log == .recovered(.seconds(3) + .milliseconds(100)))
        #expect(recovered.next == .seconds(1))
    }

    @Test("a long watchdog interval is still looked at every few seconds")
    func watchdogCalm() {
        #expect(ServiceWatchdog(interval: .seconds(60)).calm == ServiceWatchdog.calmLook)
        #expect(ServiceWatchdog(interval: .milliseconds(100)).calm == .milliseconds(50))
        #expect(ServiceWatchdog(interval: .milliseconds(100)).anxious >= .milliseconds(5))
    }

    @Test("a command sink's program never sees NOTIFY_SOCKET or the watchdog's variables")
    func childEnvironment() {
        let inherited = ["NOTIFY_SOCKET": "/run/systemd/notify", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "9",
                         "PATH": "/usr/bin"]
        let made = ChildEnvironment.make(inherited: inherited, explicit: [:], record: ingressRecord())
        #expect(made["PATH"] == "/usr/bin")
        #expect(made["NOTIFY_SOCKET"] == nil && made["WATCHDOG_USEC"] == nil && made["WATCHDOG_PID"] == nil)
    }
}
