import CSockeye
import Glibc
import SockeyeTransport

/// A `sockeye_runtime`: the transport runtime, plus what the ABI needs to order host calls
/// with its service thread, even across its shutdown.
final class ABIRuntime: @unchecked Sendable {
    let runtime: TransportRuntime
    private let lock = ServiceLock()
    private var isShut = false
    private var waiting: [ObjectIdentifier: Gate] = [:]
    /// Clients made on this runtime that have not reached `.stopped` yet.
    private var live: [ObjectIdentifier: AppClient] = [:]
    private var allStopped: Gate?

    init() throws(ABIFailure) {
        do {
            runtime = try TransportRuntime()
        } catch {
            throw ABIFailure(SOCKEYE_E_SYSTEM, error.description)
        }
    }

    /// Whether `shutDown` has begun.
    var hasShutDown: Bool { lock.withLock { isShut } }

    /// Returns once the service thread has finished the work queued before this call (so no
    /// callback that started earlier is still running), or at once on the service thread
    /// itself or after the shutdown.
    func waitForServiceThread() {
        guard !runtime.isOnServiceThread else { return }
        let gate = Gate()
        let key = ObjectIdentifier(gate)
        let registered = lock.withLock {
            guard !isShut else { return false }
            waiting[key] = gate
            return true
        }
        guard registered else { return }
        // unowned(unsafe), not retained: the gate must die on this thread (a pthread mutex
        // destroyed by the service thread would be ordered only by Swift reference counting,
        // which ThreadSanitizer does not see). `open` touches nothing after its unlock, and this
        // thread holds the gate until it has been opened, so it is alive while `open` runs.
        runtime.perform { [unowned(unsafe) gate] in gate.open() }
        gate.wait()
        lock.withLock { waiting[key] = nil }
    }

    /// Counts `app` as live until `appStopped`.
    func register(_ app: AppClient) {
        lock.withLock { live[ObjectIdentifier(app)] = app }
    }

    /// The state callback saw `.stopped` (service thread).
    func appStopped(_ app: AppClient) {
        let gate = lock.withLock { () -> Gate? in
            live[ObjectIdentifier(app)] = nil
            return live.isEmpty ? allStopped : nil
        }
        gate?.open()
    }

    /// Stops every client at once and ends the service thread; waits for it. Not on the
    /// service thread.
    ///
    /// The clients are stopped (without drain) and given up to `stopTimeout` to close their
    /// connections before the thread ends: ending it while a client is still closing
    /// connections corrupts the heap in this version of the transport.
    func shutDown(stopTimeout: Int32 = 3000) {
        let (apps, gate) = lock.withLock { () -> ([AppClient], Gate) in
            isShut = true
            let gate = Gate()
            allStopped = gate
            return (Array(live.values), gate)
        }
        if apps.isEmpty {
            gate.open()
        } else {
            for app in apps { app.stop(drain: false) }
        }
        _ = gate.wait(timeoutMilliseconds: stopTimeout)
        runtime.shutdown()
        // Work queued after the thread's last batch never runs: release whoever waits for it.
        let gates = lock.withLock { Array(waiting.values) }
        for gate in gates { gate.open() }
    }
}
