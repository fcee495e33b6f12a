import Foundation

/// A helper program started by a test on loopback and stopped by it (also on failure, via
/// `stop()` in a `defer`). Its output goes to a file, read for assertions. Spawned and
/// reaped with posix_spawn/waitpid: Foundation's `Process.waitUntilExit` can spin forever
/// on Linux when the main thread's run loop is not running (as under the test runner).
final class ExternalProcess: @unchecked Sendable {
    let pid: pid_t
    private let outputPath: String
    private let lock = NSLock()
    private var reaped = false
    private(set) var exitStatus: Int32?

    init(_ executable: String, _ arguments: [String]) throws {
        outputPath = NSTemporaryDirectory() + "sockeye-test-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        // The test runner blocks SIGTERM in its threads, and a child inherits the mask:
        // unblock it and restore its default action, so `stop()` ends the child at once.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var termination = sigset_t()
        sigemptyset(&termination)
        sigaddset(&termination, SIGTERM)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setsigdefault(&attributes, &termination)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        let status = posix_spawn(&child, executable, &actions, &attributes, argv, environ)
        guard status == 0 else { throw TestSetupError("cannot start \(executable): error \(status)") }
        pid = child
    }

    deinit { stop() }

    /// Everything it printed so far.
    var text: String { (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "" }

    /// Waits for it to exit by itself (up to `seconds`); its exit status, or nil.
    @discardableResult
    func wait(seconds: Double = 30) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if reap(block: false) { return exitStatus }
            usleep(10_000)
        }
        return nil
    }

    /// SIGTERM, a short wait, then SIGKILL; always reaps the child.
    func stop() {
        guard !lock.withLock({ reaped }) else { return }
        kill(pid, SIGTERM)
        if wait(seconds: 3) == nil, !lock.withLock({ reaped }) {
            kill(pid, SIGKILL)
            _ = reap(block: true)
        }
    }

    private func reap(block: Bool) -> Bool {
        lock.withLock {
            if reaped { return true }
            var status: Int32 = 0
            let result = waitpid(pid, &status, block ? 0 : WNOHANG)
            guard result == pid else { return false }
            reaped = true
            exitStatus = status
            return true
        }
    }
}

/// The project's Python virtual environment (made by scripts/setup --tests).
func venvPython() throws -> String {
    var directory = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { directory.deleteLastPathComponent() }
    let python = directory.appendingPathComponent(".venv/bin/python").path
    guard FileManager.default.isExecutableFile(atPath: python) else {
        throw TestSetupError("no \(python): run scripts/setup --tests first (it creates .venv with the test peers)")
    }
    return python
}

struct TestSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
        }
    }
    guard bound else { throw TestSetupError("cannot find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// Waits until something accepts TCP connections on 127.0.0.1:`port`.
func waitForListener(port: Int, seconds: Double = 15) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        close(fd)
        if connected { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return false
}

/// Starts proxy.py (a real HTTP proxy from PyPI) on a free loopback port.
func startProxy(basicAuth: String? = nil) throws -> (ExternalProcess, Int) {
    let port = try freePort()
    var arguments = ["-m", "proxy", "--hostname", "127.0.0.1", "--port", String(port),
                     "--num-workers", "1", "--num-acceptors", "1", "--log-level", "INFO"]
    if let basicAuth { arguments += ["--basic-auth", basicAuth] }
    let proxy = try ExternalProcess(try venvPython(), arguments)
    guard waitForListener(port: port) else {
        proxy.stop()
        throw TestSetupError("proxy.py did not start: \(proxy.text)")
    }
    return (proxy, port)
}

/// A self-signed certificate for `name` only (made with the openssl command).
func makeCertificate(name: String) throws -> (cert: String, key: String) {
    let directory = NSTemporaryDirectory() + "sockeye-cert-\(name)-\(getpid())"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let cert = directory + "/cert.pem", key = directory + "/key.pem"
    let openssl = try ExternalProcess("/usr/bin/openssl", [
        "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
        "-days", "2", "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:\(name)"])
    guard openssl.wait(seconds: 30) == 0 else { throw TestSetupError("openssl req failed: \(openssl.text)") }
    return (cert, key)
}

/// Collects a client's notices in the background.
final class NoticeLog: @unchecked Sendable {
    private let lock = NSLock()
    private var notices: [String] = []
    private var task: Task<Void, Never>?

    init(_ stream: AsyncStream<some Sendable>) {
        task = Task { [weak self] in
            for await notice in stream { self?.lock.withLock { self?.notices.append("\(notice)") } }
        }
    }

    var all: [String] { lock.withLock { notices } }
    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }
    deinit { task?.cancel() }
}
