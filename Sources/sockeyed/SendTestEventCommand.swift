// `sockeyed send-test-event --app NAME`: one synthetic event through an app's routes and
// sinks, to check a new configuration without waiting for Slack (TestEvent in the daemon).
import ArgumentParser
import Foundation
import Logging
import SockeyeDaemon
import SockeyeInstallations
import SockeyeSinkKit

struct SendTestEventCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test-event",
        abstract: "Push one synthetic event through an app's routes and sinks, without Slack.",
        discussion: """
            The event is recognisable wherever it lands: its event id starts with EvSOCKEYETEST, \
            its envelope id with sockeye-test-, and its payload has "sockeye_test": true. The \
            sinks the app's routes choose are opened as the daemon opens them (a forwarder or a \
            jetstream sink does reach its server) and closed afterwards. For an app installed \
            by OAuth the event comes from its first active installation unless --team says \
            otherwise. Exit status: 0 when every chosen sink took the event, 1 when one refused \
            it or no route chose a sink, 2 for a configuration problem.
            """)

    @Option(name: .long, help: "The sockeyed configuration (default: $SOCKEYE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The app whose routes and sinks get the event.")
    var app: String

    @Option(name: .long, help: "message, app_mention or slash_command (default: message).")
    var type: String = TestEvent.Kind.message.rawValue

    @Option(name: .long, help: "The workspace (team id) the event comes from.")
    var team: String?

    @Option(name: .long, help: "The channel id the event is in.")
    var channel = "C0SOCKEYETEST"

    @Option(name: .long, help: "The message's text.")
    var text = "a test event from sockeyed send-test-event"

    func validate() throws {
        guard TestEvent.Kind(rawValue: type) != nil else {
            throw ValidationError("--type: one of \(TestEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        for (name, value) in [("--team", team ?? "T"), ("--channel", channel)] {
            guard !value.isEmpty, value.count <= 64, value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw ValidationError("\(name): an id of letters and digits")
            }
        }
        guard text.utf8.count <= 4000 else { throw ValidationError("--text: at most 4000 bytes") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        guard let path = config ?? environment["SOCKEYE_CONFIG"] else { failTestEvent("give the configuration with --config FILE", code: 2) }
        let configuration: DaemonConfiguration
        do {
            configuration = try ConfigLoader.load(path: path, environment: environment)
        } catch {
            failTestEvent(error.description, code: 2)
        }
        guard let settings = configuration.apps.first(where: { $0.name == app }) else {
            failTestEvent("no app named \(app) in \(path) (apps: \(configuration.apps.map(\.name).joined(separator: ", ")))", code: 2)
        }
        let source = eventSource(settings, team: team)
        var logger = Logger(label: "sockeyed")
        logger.logLevel = .warning
        let sinks: [String: any EventSink]
        do throws(DaemonError) {
            sinks = try TestEvent.openSinks(of: settings, in: configuration, makeSink: sinkMaker(for: configuration, logger: logger))
        } catch {
            failTestEvent(error.description, code: 2)
        }
        let record = TestEvent.record(app: settings, kind: TestEvent.Kind(rawValue: type) ?? .message, team: source.team,
                                      enterprise: source.enterprise, orgWide: source.orgWide, channel: channel, text: text,
                                      authorizer: source.directory)
        let outcome = await TestEvent.deliver(record, app: settings, sinks: sinks)
        for sink in sinks.values { await sink.close() }
        print("event \(outcome.eventID) (\(type), app \(settings.name), team \(source.team)\(source.note))")
        if let dropped = outcome.dropped {
            print("  dropped before the routes: \(dropped)")
            throw ExitCode(1)
        }
        if outcome.results.isEmpty {
            print("  no route of \(settings.name) chose a sink for it")
            throw ExitCode(1)
        }
        for result in outcome.results {
            print("  \(result.sink): " + (result.accepted ? "accepted" : "REFUSED: \(result.error ?? "")")
                  + (result.response.map { " (response: \($0))" } ?? ""))
        }
        if !outcome.succeeded { throw ExitCode(1) }
    }

    /// Where the event comes from: `--team`, or for an app installed by OAuth its first active
    /// installation (with the directory that authorizes it).
    private func eventSource(_ settings: AppSettings, team: String?)
        -> (team: String, enterprise: String?, orgWide: Bool, directory: InstallationDirectory?, note: String) {
        guard let oauth = settings.oauth else { return (team ?? "T0SOCKEYETEST", nil, false, nil, "") }
        var installations: [Installation] = []
        if FileManager.default.fileExists(atPath: oauth.storePath) {
            do {
                let store = try InstallationStore(path: oauth.storePath, clientID: oauth.clientID, options: .init(readOnly: true))
                installations = try store.activeInstallations()
            } catch {
                failTestEvent(error.description, code: 2)
            }
        }
        let directory = InstallationDirectory(installations)
        if let team { return (team, nil, false, directory, "") }
        guard let first = installations.first else { return ("T0SOCKEYETEST", nil, false, directory, "; the app has no installation yet") }
        if first.isEnterpriseInstall {
            return ("T0SOCKEYETEST", first.enterpriseID, true, directory, ", installation \(first.id)")
        }
        return (first.teamID ?? "T0SOCKEYETEST", first.enterpriseID, false, directory, ", installation \(first.id)")
    }
}

func failTestEvent(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("sockeyed send-test-event: \(message)\n".utf8))
    Foundation.exit(code)
}
