// `sockeyed installations list|show|revoke`: the installations of an app installed by OAuth,
// read from its installation store (docs/oauth.md). `list` and `show` never print a token;
// `revoke` calls Slack's auth.revoke and deletes the tokens.
import ArgumentParser
import Foundation
import Sockeye
import SockeyeDaemon
import SockeyeInstallations

struct InstallationsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "installations",
        abstract: "List, show and revoke the installations of an app installed by OAuth.",
        subcommands: [InstallationsList.self, InstallationsShow.self, InstallationsRevoke.self]
    )
}

/// Which app's store: `--config` (default $SOCKEYE_CONFIG) and `--app` when several apps
/// have an `oauth:` block.
struct InstallationsLocation: ParsableArguments {
    @Option(name: .long, help: "The sockeyed configuration (default: $SOCKEYE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The app, when more than one is installed by OAuth.")
    var app: String?

    func resolve() -> AppSettings {
        let environment = ProcessInfo.processInfo.environment
        guard let file = config ?? environment["SOCKEYE_CONFIG"] else {
            failInstallations("give the configuration with --config FILE", code: 2)
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try ConfigLoader.load(path: file, environment: environment)
        } catch {
            failInstallations(error.description, code: 2)
        }
        let candidates = configuration.apps.filter { $0.oauth != nil && (app == nil || $0.name == app) }
        guard candidates.count == 1 else {
            let names = configuration.apps.filter { $0.oauth != nil }.map(\.name)
            if candidates.isEmpty {
                failInstallations(app.map { "no app named \($0) with an oauth: block in \(file)" } ?? "no app in \(file) has an oauth: block", code: 2)
            }
            failInstallations("\(file) has \(names.count) apps installed by OAuth: choose one with --app (\(names.joined(separator: ", ")))", code: 2)
        }
        return candidates[0]
    }

    func open(readOnly: Bool) -> (AppSettings, InstallationStore) {
        let app = resolve()
        guard let oauth = app.oauth else { failInstallations("\(app.name) has no oauth: block", code: 2) }
        if readOnly, !FileManager.default.fileExists(atPath: oauth.storePath) {
            failInstallations("\(oauth.storePath) does not exist yet: nothing was installed", code: 1)
        }
        do {
            return (app, try InstallationStore(path: oauth.storePath, clientID: oauth.clientID, options: .init(readOnly: readOnly)))
        } catch {
            failInstallations(error.description)
        }
    }
}

struct InstallationsList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One line per installation: id, kind, team or enterprise, state, when installed, when its token expires.")

    @OptionGroup var location: InstallationsLocation

    @Flag(name: .long, help: "Include revoked installations (kept without tokens until the retention period ends).")
    var all = false

    @Flag(name: .long, help: "One JSON object per line.")
    var json = false

    func run() throws {
        let (_, store) = location.open(readOnly: true)
        let summaries: [InstallationSummary]
        do {
            summaries = try store.summaries(includeRevoked: all)
        } catch {
            failInstallations(error.description)
        }
        for summary in summaries { print(json ? InstallationLine.json(summary) : InstallationLine.text(summary)) }
    }
}

struct InstallationsShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "One installation in full, without its tokens.")

    @OptionGroup var location: InstallationsLocation

    @Argument(help: "The installation's id: its team id (T…), or its enterprise id (E…) for an org-wide install.")
    var id: String

    func run() throws {
        let (_, store) = location.open(readOnly: true)
        let found: InstallationSummary?
        do {
            found = try store.summary(id: id)
        } catch {
            failInstallations(error.description)
        }
        guard let found else { failInstallations("no installation \(id)") }
        print(InstallationLine.json(found, pretty: true))
    }
}

struct InstallationsRevoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke an installation: auth.revoke with each of its tokens, then delete them from the store.")

    @OptionGroup var location: InstallationsLocation

    @Argument(help: "The installation's id (T… or E…).")
    var id: String

    func run() async throws {
        let (app, store) = location.open(readOnly: false)
        let installation: Installation?
        do {
            installation = try store.installation(id: id)
        } catch {
            failInstallations(error.description)
        }
        guard let installation else {
            let summary = try? store.summary(id: id)
            failInstallations(summary == nil ? "no installation \(id)" : "\(id) is revoked already", code: summary == nil ? 1 : 0)
        }
        let runtime = try SocketModeRuntime()
        defer { runtime.shutdown() }
        let outcome = await OperatorRevocation.revoke(installation, store: store, apiURL: app.apiURL, runtime: runtime,
                                                      environment: ProcessInfo.processInfo.environment)
        for line in outcome.lines { print(line) }
        if !outcome.revoked { throw ExitCode(1) }
    }
}

/// How the CLI prints an installation (never a token).
enum InstallationLine {
    static func text(_ summary: InstallationSummary) -> String {
        let kind = summary.isEnterpriseInstall ? "org" : "team"
        let place = summary.isEnterpriseInstall ? (summary.enterpriseID ?? "-") : (summary.teamID ?? "-")
        let name = (summary.isEnterpriseInstall ? summary.enterpriseName : summary.teamName) ?? "-"
        var state = summary.state.rawValue
        if let reason = summary.reason, summary.state == .revoked { state += " (\(reason))" }
        return [summary.id, kind, place, quoted(name), state, "installed " + time(summary.installedAt),
                summary.expiresAt.map { "expires " + time($0) } ?? "no expiry"].joined(separator: "\t")
    }

    static func json(_ summary: InstallationSummary, pretty: Bool = false) -> String {
        var object: [String: Any] = [
            "id": summary.id, "is_enterprise_install": summary.isEnterpriseInstall, "state": summary.state.rawValue,
            "installed_at": time(summary.installedAt), "updated_at": time(summary.updatedAt), "bot_scopes": summary.botScopes,
        ]
        object["enterprise_id"] = summary.enterpriseID ?? NSNull()
        object["enterprise_name"] = summary.enterpriseName ?? NSNull()
        object["team_id"] = summary.teamID ?? NSNull()
        object["team_name"] = summary.teamName ?? NSNull()
        object["reason"] = summary.reason ?? NSNull()
        object["token_expires_at"] = summary.expiresAt.map(time) ?? NSNull()
        object["bot_user_id"] = summary.botUserID ?? NSNull()
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func time(_ seconds: Int64) -> String {
        ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    /// A name from Slack, on one line.
    static func quoted(_ name: String) -> String {
        "\"" + name.filter { $0 != "\n" && $0 != "\t" && $0 != "\r" } + "\""
    }
}

func failInstallations(_ message: String, code: Int32 = 1) -> Never {
    FileHandle.standardError.write(Data("sockeyed installations: \(message)\n".utf8))
    Foundation.exit(code)
}
