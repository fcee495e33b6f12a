import SockeyeSinkKit

/// Hands a planned batch's parts to their sinks: for an app's runner and for a worker alike.
enum SinkDelivery {
    /// Gives each part to its sink (concurrently when there are several) and returns their
    /// outcomes in the parts' order; nil for a sink that is not configured.
    static func deliver(_ parts: [BatchPlanner.SinkPart], of records: [EventRecord],
                        to sinks: [String: any EventSink]) async -> [SinkOutcome?] {
        if parts.count == 1, let sink = sinks[parts[0].sink] {
            // One sink (the common case): no child task, one thread hop fewer per batch.
            let indices = parts[0].indices
            return [await accept(indices.count == records.count ? records : indices.map { records[$0] }, by: sink, named: parts[0].sink)]
        }
        var outcomes = [SinkOutcome?](repeating: nil, count: parts.count)
        await withTaskGroup(of: (Int, SinkOutcome).self) { group in
            for (number, part) in parts.enumerated() {
                guard let sink = sinks[part.sink] else { continue }
                let records = part.indices.map { records[$0] }
                let name = part.sink
                group.addTask { (number, await accept(records, by: sink, named: name)) }
            }
            for await (number, outcome) in group { outcomes[number] = outcome }
        }
        return outcomes
    }

    /// `sink.accept(records)`, timed for the metrics of the sink routes call `name`.
    private static func accept(_ records: [EventRecord], by sink: any EventSink, named name: String) async -> SinkOutcome {
        let started = ContinuousClock.now
        let outcome = await sink.accept(records)
        AppMetrics.sink(name, seconds: ContinuousClock.now - started, failed: !outcome.refused.isEmpty)
        return outcome
    }
}
