import Foundation
import Synchronization

/// A real `nats-server` with JetStream, started for one test on 127.0.0.1 and stopped by its
/// PID. The binary is `$SOCKEYE_NATS_SERVER`, else `nats-server` on PATH or in /usr/sbin
/// (where Debian puts it).
final class NATSServer: @unchecked Sendable {
    let port: Int
    let storeDirectory: URL
    private let process: Process
    private let output = OutputBuffer()

    /// What the server printed, filled on the pipe's reading thread.
    private final class OutputBuffer: Sendable {
        private let text = Mutex("")
        func append(_ data: Data) { text.withLock { $0 += String(decoding: data, as: UTF8.self) } }
        func withLock<T>(_ body: (inout String) -> T) -> T { text.withLock { body(&$0) } }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts a server on `port` (0: a free one it picks) keeping its streams in `store`
    /// (a fresh directory when nil); returns once it accepts clients.
    init(port: Int = 0, store: URL? = nil, name: String = "n1", extra: [String] = []) throws {
        let directory = store ?? FileManager.default.temporaryDirectory.appendingPathComponent("sockeye-nats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        storeDirectory = directory
        process = Process()
        process.executableURL = URL(fileURLWithPath: try Self.binary())
        process.arguments = ["-js", "-a", "127.0.0.1", "-p", port == 0 ? "-1" : String(port), "-n", name, "-sd", directory.path] + extra
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        pipe.fileHandleForReading.readabilityHandler = { [output] handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            output.append(data)
        }
        try process.run()
        let deadline = Date().addingTimeInterval(15)
        var found: Int?
        while Date() < deadline, process.isRunning {
            let text = output.withLock { $0 }
            if text.contains("Server is ready"), let line = text.split(separator: "\n").first(where: { $0.contains("Listening for client connections on") }),
               let portText = line.split(separator: ":").last, let number = Int(portText.trimmingCharacters(in: .whitespaces)) {
                found = number
                break
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        guard let found else {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw Failure(description: "nats-server did not start: \(output.withLock { $0 }.suffix(600))")
        }
        self.port = found
    }

    var url: String { "nats://127.0.0.1:\(port)" }
    var pid: Int32 { process.processIdentifier }
    var log: String { output.withLock { $0 } }

    /// Stops the server by its PID (SIGTERM, then SIGKILL after 5 s) and waits for it.
    func stop(signal: Int32 = SIGTERM) {
        guard process.isRunning else { return }
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop(signal: SIGKILL) }

    static func binary() throws -> String {
        if let path = ProcessInfo.processInfo.environment["SOCKEYE_NATS_SERVER"], !path.isEmpty { return path }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/usr/local/sbin", "/usr/local/bin"] {
            let candidate = directory + "/nats-server"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw Failure(description: "nats-server is not installed (scripts/setup installs it; or set SOCKEYE_NATS_SERVER)")
    }
}
