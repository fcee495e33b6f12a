import SockeyeSinkKit
import Synchronization

/// One app's history, kept by the daemon across the app's restarts and reloads (so a restart
/// shows as a gap, not as a fresh start): the ack path's latency counts and the ring of
/// samples its sampler fills.
final class AppHistoryRecorder: Sendable {
    /// Counted by every ack (see `AppRunner.handle`).
    let latencies = AckLatencyCounts()
    let intervalMilliseconds: Int64
    private let ring: Mutex<HistoryRing>

    init(intervalMilliseconds: Int64) {
        self.intervalMilliseconds = intervalMilliseconds
        ring = Mutex(HistoryRing(intervalMilliseconds: intervalMilliseconds))
    }

    /// Keeps interval `slot`'s sample.
    func record(_ sample: AppHistory.Sample, slot: Int64) {
        ring.withLock { $0.record(sample, slot: slot) }
    }

    /// The window before the interval in progress at `milliseconds` since 1970 (a copy).
    func history(atMilliseconds milliseconds: Int64) -> AppHistory {
        ring.withLock { $0.history(atMilliseconds: milliseconds) }
    }
}

/// The daemon's app histories by app name: one recorder per name, handed to each instance of
/// the app; a reload drops the apps it removes or disables, so the table holds at most one
/// recorder per enabled app.
final class AppHistories: Sendable {
    let intervalMilliseconds: Int64
    private let table = Mutex<[String: AppHistoryRecorder]>([:])

    init(interval: Duration) {
        intervalMilliseconds = max(1, AppRunner.nanoseconds(interval) / 1_000_000)
    }

    /// `app`'s recorder, made on first use.
    func recorder(for app: String) -> AppHistoryRecorder {
        table.withLock { table in
            if let existing = table[app] { return existing }
            let made = AppHistoryRecorder(intervalMilliseconds: intervalMilliseconds)
            table[app] = made
            return made
        }
    }

    /// Drops the recorders of apps not in `names`.
    func keep(only names: Set<String>) {
        table.withLock { table in table = table.filter { names.contains($0.key) } }
    }
}
