import Foundation

/// A load run in HTTP delivery mode (guarded by `HTTPDelivery.cond`).
struct HTTPLoadState: Sendable {
    /// Open loop at a fixed rate per second, or at most `window` payloads unsettled.
    enum Mode: Sendable, Equatable { case rate(Double), window(Int) }
    var mode: Mode
    var total: Int
    var issued = 0
    /// Monotonic seconds.
    var startedAt: Double
    var finishedAt: Double?
    /// How late a first attempt was picked up by a worker, relative to its intended time.
    var maxLag = 0.0
    /// Worker CPU seconds when the run started and when it finished.
    var cpuAtStart: Double
    var cpuAtEnd: Double?
}

extension HTTPDelivery {
    /// One payload kind of a load mix: the simulator's template index and the template.
    typealias MixEntry = (index: Int, template: PayloadTemplate)

    /// Starts a load run on its own thread: `total` payloads for `app` cycling through
    /// `mix`, with event numbers from `firstEvent`. Rate mode is open loop: payload *i* is due at
    /// start + i/rate and its latency runs from then, however long the app (or a busy
    /// worker) makes it wait. Window mode keeps at most `window` payloads unsettled
    /// (retries included), as fast as the app answers. Replaces a finished run; returns
    /// false while one is still running.
    @discardableResult
    func startLoad(_ mode: HTTPLoadState.Mode, total: Int, mix: [MixEntry], app: Int = 0, firstEvent: UInt64) -> Bool {
        guard !mix.isEmpty else { return false }
        cond.lock()
        if let l = loadState, l.finishedAt == nil, l.issued < l.total || outstanding > 0 { cond.unlock(); return false }
        let start = SimServer.monotonic()
        loadState = HTTPLoadState(mode: mode, total: total, startedAt: start, cpuAtStart: workerCPU)
        if total == 0 { loadState?.finishedAt = start; loadState?.cpuAtEnd = workerCPU }
        cond.unlock()
        let t = Thread { [self] in drive(mode, total: total, mix: mix, app: app, firstEvent: firstEvent, start: start) }
        t.name = "sockeye-sim-http-load"
        t.start()
        return true
    }

    private func drive(_ mode: HTTPLoadState.Mode, total: Int, mix: [MixEntry], app: Int, firstEvent: UInt64, start: Double) {
        for i in 0..<total {
            let (index, template) = mix[i % mix.count]
            let number = firstEvent + UInt64(i)
            let (body, contentType) = Self.body(for: template, eventNumber: number)
            let intended: Double
            switch mode {
            case .rate(let r):
                intended = start + Double(i) / r
                guard waitUntil(intended) else { return }
            case .window(let w):
                guard waitForRoom(window: w) else { return }
                intended = SimServer.monotonic()
            }
            var job = Job(body: body, contentType: contentType, type: template.type, intendedAt: intended,
                          app: app, template: index, eventNumber: number)
            job.fromLoad = true
            submit(job, isLoad: true)
        }
    }

    /// Blocks until monotonic time `t`; false when stopping.
    private func waitUntil(_ t: Double) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while !stopping {
            let left = t - SimServer.monotonic()
            if left <= 0 { return true }
            _ = cond.wait(until: Date(timeIntervalSinceNow: left))
        }
        return false
    }

    /// Blocks until fewer than `window` payloads are unsettled; false when stopping.
    private func waitForRoom(window: Int) -> Bool {
        cond.lock(); defer { cond.unlock() }
        while outstanding >= max(1, window), !stopping { cond.wait() }
        return !stopping
    }

    /// The current load run, if one was started.
    var load: HTTPLoadState? { cond.lock(); defer { cond.unlock() }; return loadState }

    /// True once a load run was started and everything it generated is settled.
    public var loadFinished: Bool { load?.finishedAt != nil }
}
