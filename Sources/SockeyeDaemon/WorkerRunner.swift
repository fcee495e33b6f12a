import Logging
import ServiceLifecycle
import SockeyeSinkKit

/// One worker: takes batches of events from its `StreamSource`, routes them to its sinks
/// with the same `BatchPlanner` an app uses (no claims, no own-message filter), and settles
/// each delivery with what the sinks did: processed when every sink it was routed to took it
/// (or no route wanted it), failed otherwise (the source delivers it again later, or moves it
/// to the dead letters).
///
/// It stops between batches once the daemon shuts down gracefully (a batch in the sinks is
/// finished and settled first); deliveries it never settles come back from the stream.
final class WorkerRunner: Sendable {
    let settings: WorkerSettings
    let source: any StreamSource
    private let sinks: [String: any EventSink]
    private let planner: BatchPlanner
    private let logger: Logger

    /// How long one `next` waits for events: also how soon a shutdown is noticed when idle.
    static let pollWait: Duration = .seconds(1)
    /// The pause after the stream could not be read.
    static let retryPause: Duration = .seconds(1)

    init(settings: WorkerSettings, source: any StreamSource, sinks: [String: any EventSink], logger: Logger) {
        self.settings = settings
        self.source = source
        self.sinks = sinks
        planner = BatchPlanner(router: Router(routes: settings.routes), claims: nil, acksOnReceipt: false)
        var logger = logger
        logger[metadataKey: "worker"] = "\(settings.name)"
        self.logger = logger
    }

    /// Runs until the daemon shuts down (or the task is cancelled).
    func run() async {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let deliveries: [StreamDelivery]
            do {
                deliveries = try await source.next(max: settings.batch, wait: Self.pollWait)
            } catch {
                try? await Task.sleep(for: Self.retryPause)
                continue
            }
            guard !deliveries.isEmpty else { continue }
            await handle(deliveries)
        }
    }

    /// Routes one batch to the sinks and settles every delivery.
    func handle(_ deliveries: [StreamDelivery]) async {
        let records = deliveries.map(\.record)
        let plan = planner.plan(records, own: nil, now: 0)
        let outcomes = await SinkDelivery.deliver(plan.parts, of: records, to: sinks)
        let settlement = planner.settle(plan, outcomes: outcomes)
        var settled: [(StreamDelivery, StreamSettlement)] = []
        settled.reserveCapacity(deliveries.count)
        for (delivery, answer) in zip(deliveries, settlement.answers) {
            switch answer {
            case .ack(let response?): settled.append((delivery, .answered(response)))
            case .ack, .ackedOnReceipt: settled.append((delivery, .processed))
            case .nack(let reason): settled.append((delivery, .failed(reason)))
            }
        }
        for failure in settlement.counts.failures {
            logger.warning("a sink refused events: they will be delivered again", metadata: ["error": .string(failure)])
        }
        await source.settle(settled)
    }
}

/// The daemon's workers as one service: each runs in a child task until graceful shutdown,
/// then its source is closed.
struct WorkersService: Service {
    let workers: [WorkerRunner]

    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { await worker.run() }
            }
        }
        for worker in workers { await worker.source.close() }
    }
}
