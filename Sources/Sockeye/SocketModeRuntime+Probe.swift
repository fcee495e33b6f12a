import SockeyeTransport
import Synchronization

extension SocketModeRuntime {
    /// Queues a mark behind the work already handed to the service thread and returns at
    /// once; the probe is `answered` once the thread got to the mark. A watchdog's proof that
    /// the one thread servicing every connection is not stuck: a thread blocked in a callback,
    /// or spinning, never answers. After `shutdown()` no probe is answered.
    public func probe() -> ServiceThreadProbe {
        let probe = ServiceThreadProbe()
        transport.perform { probe.answer() }
        return probe
    }
}

/// One question to the service thread (`SocketModeRuntime.probe()`): whether it has run
/// the work queued before the question.
public final class ServiceThreadProbe: Sendable {
    private let flag = Atomic<Bool>(false)

    init() {}

    /// Whether the service thread has reached the probe.
    public var answered: Bool { flag.load(ordering: .acquiring) }

    func answer() { flag.store(true, ordering: .releasing) }
}
