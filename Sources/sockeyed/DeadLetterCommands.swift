// `sockeyed dead-letters list|replay`: the events workers gave up on (docs/cluster.md, Workers).
import ArgumentParser
import Foundation
import SockeyeDaemon
import SockeyeJetStream
import SockeyeSinkKit

struct DeadLetterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "List and replay the events the workers of a stream gave up on.",
        subcommands: [DeadLetterList.self, DeadLetterReplay.self]
    )
}

/// Which stream's dead letters: `--stream`, or the one the workers of `--config` consume.
struct DeadLetterLocation: ParsableArguments {
    @Option(name: .long, help: "The sockeyed configuration (its cluster: block; default: $SOCKEYE_CONFIG).")
    var config: String?

    @Option(name: .long, help: "The stream whose workers' dead letters to read, when the workers consume several.")
    var stream: String?

    /// The stream, the cluster settings, and the subject prefix of the jetstream sink that writes that stream.
    func resolve() -> (stream: String, cluster: ClusterSettings, subjectPrefix: String) {
        let environment = ProcessInfo.processInfo.environment
        guard let file = config ?? environment["SOCKEYE_CONFIG"] else {
            fail("give the configuration with --config FILE", code: 2)
        }
        let configuration: DaemonConfiguration
        do {
            configuration = try ConfigLoader.load(path: file, environment: environment)
        } catch {
            fail("\(error.description)", code: 2)
        }
        guard let cluster = configuration.cluster else { fail("\(file) has no cluster: block", code: 2) }
        let streams = Set(configuration.workers.map(\.stream))
        let chosen: String
        if let stream {
            chosen = stream
        } else if streams.count == 1, let only = streams.first {
            chosen = only
        } else {
            fail(streams.isEmpty ? "\(file) has no workers: give --stream NAME" : "the workers consume several streams: give --stream NAME", code: 2)
        }
        let prefix = configuration.sinks.values.compactMap { settings -> String? in
            if case .jetstream(let sink) = settings, sink.stream == chosen { return sink.subjectPrefix }
            return nil
        }.first ?? "slack"
        return (chosen, cluster, prefix)
    }

    func open() -> (DeadLetterStore, String) {
        let (stream, cluster, prefix) = resolve()
        do {
            return (try DeadLetterStore(stream: stream, cluster: cluster), prefix)
        } catch {
            fail(error.message, code: 1)
        }
    }
}

struct DeadLetterList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "One JSON line per dead letter, oldest first: sequence, worker, deliveries, reason, subject and the event's line.")

    @OptionGroup var location: DeadLetterLocation

    @Option(name: .long, help: "Only this worker's.")
    var worker: String?

    @Option(name: .long, help: "At most this many (1–100000).")
    var limit = 100

    func validate() throws {
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit: from 1 to 100000") }
    }

    func run() throws {
        let (store, _) = location.open()
        defer { store.close() }
        let letters: [DeadLetter]
        do {
            letters = try store.list(worker: worker, limit: limit)
        } catch {
            fail(error.message, code: 1)
        }
        for letter in letters {
            var fields: [String] = ["\"sequence\":\(letter.sequence)"]
            for (name, value) in [("worker", letter.worker), ("reason", letter.reason), ("subject", letter.subject)] {
                if let value { fields.append("\"\(name)\":\(Self.quoted(value))") }
            }
            if let deliveries = letter.deliveries { fields.append("\"deliveries\":\(deliveries)") }
            let line = String(decoding: letter.line, as: UTF8.self)
            let isObject = (try? EventRecord(line: letter.line)) != nil
            fields.append("\"line\":" + (isObject ? line : Self.quoted(line)))
            print("{" + fields.joined(separator: ",") + "}")
        }
    }

    /// `text` as a JSON string.
    static func quoted(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}

struct DeadLetterReplay: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Publish dead letters to the stream again (new message ids) and delete them from the dead letters.",
        discussion: """
            Every consumer of the event's subject gets it again, not only the worker that gave \
            up on it; a sink that keeps one row per event id (the spool) keeps one.
            """)

    @OptionGroup var location: DeadLetterLocation

    @Option(name: .long, help: "The dead letter's sequence (repeatable).")
    var sequence: [UInt64] = []

    @Flag(name: .long, help: "Every dead letter (of --worker when given).")
    var all = false

    @Option(name: .long, help: "With --all: only this worker's.")
    var worker: String?

    func validate() throws {
        guard all != !sequence.isEmpty else { throw ValidationError("give --sequence N (repeatable) or --all") }
        guard worker == nil || all else { throw ValidationError("--worker goes with --all") }
    }

    func run() throws {
        let (store, prefix) = location.open()
        defer { store.close() }
        var replayed = 0
        var failed = false
        do {
            let letters = all ? try store.list(worker: worker, limit: 100_000) : try sequence.compactMap { number throws(JetStreamError) in
                let letter = try store.letter(at: number)
                if letter == nil { FileHandle.standardError.write(Data("sockeyed: no dead letter \(number)\n".utf8)) }
                return letter
            }
            for letter in letters {
                do {
                    let stored = try store.replay(letter, subjectPrefix: prefix)
                    print("replayed dead letter \(letter.sequence) as stream sequence \(stored)")
                    replayed += 1
                } catch {
                    FileHandle.standardError.write(Data("sockeyed: dead letter \(letter.sequence): \(error.message)\n".utf8))
                    failed = true
                }
            }
        } catch {
            fail("\(error)", code: 1)
        }
        print("\(replayed) replayed")
        if failed || (!all && replayed < sequence.count) { throw ExitCode(1) }
    }
}
