import ArgumentParser
import Foundation
import SockeyeOperations

/// `sockeyed healthcheck`: asks a running daemon's operations listener for `/healthz` (or
/// `/readyz`), for a container's HEALTHCHECK or a script, where curl may not be installed.
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Ask a running sockeyed's operations listener whether it is healthy.",
        discussion: """
            GETs /healthz (with --ready, /readyz) from the operations listener and exits 0 \
            when it answers 200, 1 otherwise (refused, another status, or no answer before \
            the timeout). A wildcard address (0.0.0.0, [::]) is asked on loopback.
            """
    )

    @Option(name: .long, help: "The operations listener's HOST:PORT, as operations.listen gives it.")
    var address = HealthProbe.defaultAddress

    @Flag(name: .long, help: "Ask /readyz (every enabled app can take events) instead of /healthz.")
    var ready = false

    @Option(name: .long, help: "Seconds to wait for the answer, 1-60.")
    var timeout = 5

    func validate() throws {
        guard (1...60).contains(timeout) else { throw ValidationError("--timeout: 1 to 60 seconds") }
        guard HealthProbe(address: address, ready: ready) != nil else {
            throw ValidationError("--address: HOST:PORT with a numeric host or localhost, e.g. 127.0.0.1:9464")
        }
    }

    func run() throws {
        guard let probe = HealthProbe(address: address, ready: ready) else { throw ExitCode(64) }
        let target = "http://\(probe.host.contains(":") ? "[\(probe.host)]" : probe.host):\(probe.port)\(probe.path)"
        switch HealthRequest.perform(probe, deadline: .now + .seconds(timeout)) {
        case .success(.healthy):
            print("\(target): 200")
        case .success(.unhealthy(let line)):
            FileHandle.standardError.write(Data("sockeyed healthcheck: \(target): \(line)\n".utf8))
            throw ExitCode(1)
        case .success:
            FileHandle.standardError.write(Data("sockeyed healthcheck: \(target): not an HTTP answer\n".utf8))
            throw ExitCode(1)
        case .failure(let error):
            FileHandle.standardError.write(Data("sockeyed healthcheck: \(target): \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
