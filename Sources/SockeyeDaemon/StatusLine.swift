import Foundation
import ServiceLifecycle

/// Live counts on standard error: one line rewritten in place twice a second on a terminal;
/// otherwise (a journal, a log file) a plain line a minute, and none while nothing changed,
/// so an idle daemon does not fill its log. `events/s` is measured over the last interval.
struct StatusLine: Service {
    let daemon: Daemon
    let label: String

    func run() async throws {
        let terminal = isatty(STDERR_FILENO) == 1
        let interval: Duration = terminal ? .milliseconds(500) : .seconds(60)
        await cancelWhenGracefulShutdown {
            var last = 0
            var lastTime = ContinuousClock.now
            var lastLine = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                let now = ContinuousClock.now
                let line = render(since: &last, at: now, previous: &lastTime)
                if !terminal && line == lastLine { continue }
                lastLine = line
                let text = terminal ? "\r\u{1B}[K" + line : line + "\n"
                FileHandle.standardError.write(Data(text.utf8))
            }
        }
        if terminal { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    func render(since last: inout Int, at now: ContinuousClock.Instant, previous: inout ContinuousClock.Instant) -> String {
        var received = 0, acked = 0, nacked = 0, duplicates = 0, live = 0, target = 0
        let runners = daemon.runners
        for runner in runners {
            let counts = runner.counters.snapshot
            let stats = runner.clientStats
            received += counts.received
            acked += counts.acked
            nacked += counts.nacked
            duplicates += stats.pool.duplicatesDropped
            live += stats.liveConnections
            target += stats.targetConnections
        }
        let seconds = Double((now - previous).components.attoseconds) / 1e18 + Double((now - previous).components.seconds)
        let rate = seconds > 0 ? Double(received - last) / seconds : 0
        last = received
        previous = now
        return "\(label)  \(runners.count) app\(runners.count == 1 ? "" : "s")  events \(received)  \(Int(rate.rounded()))/s  "
            + "acked \(acked)  nacked \(nacked)  de-duplicated \(duplicates)  connections \(live)/\(target)"
    }
}

extension Daemon {
    /// Live counts of every app on standard error (see `StatusLine`).
    public func statusLine(label: String = "sockeyed") -> any Service {
        StatusLine(daemon: self, label: label)
    }
}
