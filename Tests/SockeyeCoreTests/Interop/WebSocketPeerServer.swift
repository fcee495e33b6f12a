import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A WebSocket server nobody here wrote (Python `websockets` or `aiohttp`, driven by
/// Tests/interop/ws_peer_server.py), run from the project's virtual environment for one test.
/// Its stdout carries JSON lines: first `{"port": N}`, then one report per connection.
final class WebSocketPeerServer {
    /// The port it listens on (127.0.0.1).
    private(set) var port = 0
    private let process: Process
    private let output: FileHandle
    private var pending: [UInt8] = []

    /// The package root, found from this file's path (Tests/SockeyeCoreTests/Interop/…).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Starts the server for `library`; fails the test (never skips it) when the virtual
    /// environment is missing.
    init(library: String) throws {
        let python = Self.root.appendingPathComponent(".venv/bin/python").path
        try #require(
            FileManager.default.isExecutableFile(atPath: python),
            "no Python virtual environment at .venv: run scripts/setup --tests (it installs websockets and aiohttp)")
        let pipe = Pipe()
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [Self.root.appendingPathComponent("Tests/interop/ws_peer_server.py").path, library]
        process.standardOutput = pipe
        output = pipe.fileHandleForReading
        try process.run()
        guard let first = try nextReport(timeout: 30), let port = first["port"] as? Int else {
            stop()
            throw PeerError.noPort(library)
        }
        self.port = port
    }

    enum PeerError: Error {
        case noPort(String)
    }

    /// The next JSON line, or nil when none comes within `timeout` seconds.
    func nextReport(timeout: Double) throws -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Data(pending[..<newline])
                pending.removeSubrange(...newline)
                return try JSONSerialization.jsonObject(with: line) as? [String: Any]
            }
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { return nil }
            var poller = pollfd(fd: output.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(left * 1000)) > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(output.fileDescriptor, &chunk, chunk.count)
            guard count > 0 else { return nil }
            pending += chunk[..<count]
        }
    }

    /// Kills the server. SIGKILL, not SIGTERM: the test runner's threads block SIGTERM and
    /// the child inherits that mask, so a SIGTERM would never arrive.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
