import Foundation
import SockeyeSinkKit
import Subprocess
import SystemPackage

/// Runs a program per event, with the event's normalized line (and a newline) on its standard
/// input. Exit status 0 accepts the event; any other status, a signal, a program that cannot
/// start or one that outlives the timeout (stopped with SIGTERM, then SIGKILL after a second)
/// refuses it, so it is nacked and Slack redelivers it. When the program prints one JSON
/// object on standard output, it becomes the ack's response payload (for slash commands and
/// interactive payloads that accept one). At most `concurrency` programs run at once across
/// every app using the sink; a batch's events run in parallel within that limit.
public final class CommandSink: EventSink {
    public let name: String
    let settings: CommandSettings
    private let slots: AsyncSemaphore
    /// The daemon's environment, read once: only `ChildEnvironment.passedThrough` reaches a program.
    private let inherited: [String: String]
    /// Where an event's installation's bot token is found (`pass_bot_token`).
    private let tokens: InstallationTokens?

    /// The most a program may print on standard output (more fails the event).
    static let outputLimit = 64 * 1024

    /// A sink running `settings`' program; `inherited` is the environment its PATH, HOME,
    /// LANG and TZ come from (the daemon's by default).
    public init(name: String, settings: CommandSettings, inherited: [String: String] = ProcessInfo.processInfo.environment,
                tokens: InstallationTokens? = nil) {
        self.name = name
        self.settings = settings
        self.tokens = tokens
        self.inherited = inherited.filter { ChildEnvironment.passedThrough.contains($0.key) }
        slots = AsyncSemaphore(settings.concurrency)
    }

    public func accept(_ records: [EventRecord]) async -> SinkOutcome {
        var refused: [Int] = []
        var responses: [Int: [UInt8]] = [:]
        var firstError: String?
        await withTaskGroup(of: (Int, Result<[UInt8]?, CommandFailure>).self) { group in
            for (index, record) in records.enumerated() {
                group.addTask { [self] in
                    await slots.acquire()
                    let result = await run(record)
                    await slots.release()
                    return (index, result)
                }
            }
            for await (index, result) in group {
                switch result {
                case .success(let response):
                    if let response { responses[index] = response }
                case .failure(let failure):
                    refused.append(index)
                    if firstError == nil { firstError = "\(name): \(failure.description) (envelope \(records[index].envelopeID))" }
                }
            }
        }
        return SinkOutcome(refused: refused.sorted(), error: firstError, responses: responses)
    }

    public func close() async {}

    public var health: SinkHealth {
        // The arguments are not shown: after `${ENV}` substitution they may hold secrets.
        SinkHealth(kind: "command", figures: [("program", Redaction.command(settings.arguments)), ("concurrency", String(settings.concurrency))])
    }

    /// Runs the program for one record: the response payload (if it printed a JSON object),
    /// or why the event must be refused.
    func run(_ record: EventRecord) async -> Result<[UInt8]?, CommandFailure> {
        guard let program = settings.arguments.first else { return .failure(CommandFailure("no program configured")) }
        let input = record.line + [0x0A]
        let timeout = settings.timeoutSeconds
        let rest = Array(settings.arguments.dropFirst())
        var variables: [Environment.Key: String] = [:]
        var botToken: String?
        if settings.passesBotToken, let id = record.authorization?.installationID {
            botToken = tokens?.botToken(app: record.app, installation: id)
        }
        for (key, value) in ChildEnvironment.make(inherited: inherited, explicit: settings.environment, record: record, botToken: botToken) {
            if let key = Environment.Key(rawValue: key) { variables[key] = value }
        }
        let environment = Environment.custom(variables)
        return await withTaskGroup(of: Result<[UInt8]?, CommandFailure>?.self) { group in
            group.addTask {
                let executable: Executable = program.contains("/") ? .path(FilePath(program)) : .name(program)
                let arguments = Arguments(rest)
                var platform = PlatformOptions()
                platform.teardownSequence = [.gracefulShutDown(allowedDurationToNextStep: .seconds(1))]
                do {
                    let result = try await Subprocess.run(
                        executable, arguments: arguments, environment: environment, platformOptions: platform,
                        input: EventLineInput(bytes: input), output: .bytes(limit: Self.outputLimit), error: .discarded)
                    guard case .exited(0) = result.terminationStatus else {
                        return .failure(CommandFailure("\(program) ended with \(result.terminationStatus)"))
                    }
                    return .success(Self.response(in: result.standardOutput))
                } catch is CancellationError {
                    return nil
                } catch {
                    return Task.isCancelled ? nil : .failure(CommandFailure("\(program) could not run: \(error)"))
                }
            }
            group.addTask {
                try? await Task.sleep(for: BoundedTime.duration(timeout))
                return Task.isCancelled ? nil : .failure(CommandFailure("\(program) took longer than \(timeout) s and was stopped"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            // The other task's answer (a cancelled run or sleep) does not matter.
            while await group.next() != nil {}
            return first ?? .failure(CommandFailure("\(program) was stopped"))
        }
    }

    /// The printed bytes when they look like one JSON object (the ack checks it fully).
    static func response(in output: [UInt8]) -> [UInt8]? {
        var start = output.startIndex
        var end = output.endIndex
        let space: Set<UInt8> = [0x20, 0x0A, 0x0D, 0x09]
        while start < end, space.contains(output[start]) { start += 1 }
        while end > start, space.contains(output[end - 1]) { end -= 1 }
        guard start < end, output[start] == 0x7B, output[end - 1] == 0x7D else { return nil }
        return Array(output[start..<end])
    }
}

/// The event's line on the program's standard input. A program that exits, or closes its
/// input, without reading all of it is no failure of the event's: the write stops there and
/// the input is closed. (swift-subprocess's own array input leaves its writer open when a
/// write fails, and traps on it: a handler that ignores its input and exits at once would
/// crash the daemon.)
struct EventLineInput: InputProtocol {
    let bytes: [UInt8]

    func write(with writer: StandardInputWriter) async throws {
        _ = try? await writer.write(bytes)
        try? await writer.finish()
    }
}

/// Why a command refused an event.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
