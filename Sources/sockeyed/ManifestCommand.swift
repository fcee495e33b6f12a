import ArgumentParser
import Foundation
import SockeyeDaemon

/// `sockeyed manifest`: a Slack app manifest for a configured app.
struct ManifestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "manifest",
        abstract: "Print a Slack app manifest (YAML) for a configured app: Socket Mode, its events, commands and scopes.",
        discussion: "Paste it at api.slack.com/apps (Create New App, From a manifest).")

    @Option(name: .long, help: "The YAML configuration file (default: $SOCKEYE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The app's name in the configuration (needed when it has several).")
    var app: String?

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: DaemonConfiguration
        do {
            guard let path = config ?? environment["SOCKEYE_CONFIG"] else {
                throw ValidationError("give --config FILE (the manifest is made from the app's routes)")
            }
            configuration = try ConfigLoader.load(path: path, environment: environment)
        } catch let error as ConfigError {
            FileHandle.standardError.write(Data("sockeyed: \(error.description)\n".utf8))
            throw ExitCode(2)
        }
        let chosen: AppSettings
        if let app {
            guard let found = configuration.apps.first(where: { $0.name == app }) else {
                FileHandle.standardError.write(Data("sockeyed: no app named \"\(app)\" (configured: \(configuration.apps.map(\.name).joined(separator: ", ")))\n".utf8))
                throw ExitCode(2)
            }
            chosen = found
        } else {
            guard configuration.apps.count == 1 else {
                FileHandle.standardError.write(Data("sockeyed: the configuration has \(configuration.apps.count) apps: choose one with --app NAME\n".utf8))
                throw ExitCode(2)
            }
            chosen = configuration.apps[0]
        }
        print(Manifest.yaml(for: chosen), terminator: "")
    }
}
