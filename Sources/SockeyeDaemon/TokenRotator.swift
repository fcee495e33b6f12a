import Foundation
import SockeyeInstallations
import SockeyeSinkKit
import Synchronization

/// The run-time state of one app's token rotation (`AppInstallations+Rotation` carries it
/// out): the schedule, the signal that wakes the loop, the cluster's lock and the clock.
/// Every refresh goes through the schedule, which hands an installation out once until it
/// is finished: one refresh per installation at a time in this process, however many tasks
/// call `expired(id:)`.
final class TokenRotator: Sendable {
    /// The longest the loop sleeps: the store is read again at least this often, so another
    /// process's changes (a revocation by the CLI, a rotation by another node) are seen.
    static let maxSleepSeconds: Double = 30
    /// How long a node holds an installation's lock: two refresh calls and a store write,
    /// each bounded, fit well within it.
    static let leaseSeconds: Double = 120
    /// Installations refreshed at once in one pass.
    static let concurrency = 4

    let schedule: Mutex<TokenRotation>
    let wakeup = Wakeup()
    /// The cluster's lock; nil on a single node.
    let lock: (any InstallationLock)?
    /// Seconds added to the system clock (tests move time ahead instead of waiting hours).
    private let clockOffset = Mutex<Double>(0)

    init(policy: TokenRotation.Policy, lock: (any InstallationLock)?) {
        schedule = Mutex(TokenRotation(policy: policy))
        self.lock = lock
    }

    /// Now, in seconds since 1970.
    func now() -> Double { Date().timeIntervalSince1970 + clockOffset.withLock { $0 } }

    /// Now, in whole seconds since 1970 (what the store and expiries count in).
    func nowSeconds() -> Int64 {
        let now = now()
        return now.isFinite && abs(now) < 9e18 ? Int64(now) : 0
    }

    /// Moves this rotation's clock ahead by `seconds` and wakes the loop (tests).
    func advanceClock(by seconds: Double) {
        clockOffset.withLock { $0 += seconds }
        wakeup.signal()
    }

    /// How long the loop may sleep at `now`: until the next due refresh, at most
    /// `maxSleepSeconds`.
    func sleepSeconds(now: Double) -> Double {
        guard let next = schedule.withLock({ $0.nextDue() }) else { return Self.maxSleepSeconds }
        return min(max(next - now, 0), Self.maxSleepSeconds)
    }
}
