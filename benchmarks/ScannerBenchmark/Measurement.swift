import CMallocCounter
import Foundation

/// How long to measure. Rounds of all competitors are interleaved per fixture, so a burst of
/// noise from the rest of the machine hits everyone alike; the best round is reported.
struct MeasurementSettings {
    var rounds: Int
    /// Target duration of one round of one competitor, in seconds.
    var roundSeconds: Double

    static let standard = MeasurementSettings(rounds: 7, roundSeconds: 0.35)
    static let smoke = MeasurementSettings(rounds: 3, roundSeconds: 0.02)
}

/// What one competitor did on one fixture.
struct CellResult {
    let competitor: String
    let iterationsPerRound: Int
    /// Nanoseconds per envelope in each round.
    let roundNanoseconds: [Double]
    /// Heap allocations per envelope over all timed rounds.
    let allocationsPerEnvelope: Double
    let fixtureBytes: Int

    var bestNanoseconds: Double { roundNanoseconds.min() ?? .nan }
    var medianNanoseconds: Double {
        let sorted = roundNanoseconds.sorted()
        return sorted.isEmpty ? .nan : sorted[sorted.count / 2]
    }
    /// Throughput of the best round, in 10^6 bytes per second.
    var megabytesPerSecond: Double { Double(fixtureBytes) / bestNanoseconds * 1e3 }
    var envelopesPerSecond: Double { 1e9 / bestNanoseconds }
    /// How much slower the median round was than the best one: a noise indicator.
    var spread: Double { medianNanoseconds / bestNanoseconds - 1 }
}

enum Stopwatch {
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

enum Measurement {
    /// Runs every competitor on one fixture: warm-up and calibration, then interleaved rounds.
    static func measure(
        _ competitors: [Competitor], on buffer: PaddedBuffer, settings: MeasurementSettings
    ) -> [CellResult] {
        let iterations = competitors.map { calibrate($0, buffer, settings) }
        var rounds = Array(repeating: [Double](), count: competitors.count)
        var allocations = Array(repeating: UInt64(0), count: competitors.count)
        for _ in 0..<settings.rounds {
            for (index, competitor) in competitors.enumerated() {
                let allocationsBefore = sockeye_bench_allocation_count()
                let start = Stopwatch.nanoseconds()
                let checksum = competitor.run(buffer, iterations[index])
                let end = Stopwatch.nanoseconds()
                allocations[index] += sockeye_bench_allocation_count() - allocationsBefore
                blackHole(checksum)
                rounds[index].append(Double(end - start) / Double(iterations[index]))
            }
        }
        return competitors.indices.map { index in
            CellResult(
                competitor: competitors[index].name,
                iterationsPerRound: iterations[index],
                roundNanoseconds: rounds[index],
                allocationsPerEnvelope: Double(allocations[index])
                    / Double(iterations[index] * settings.rounds),
                fixtureBytes: buffer.count)
        }
    }

    /// Warms the competitor up (first-use allocations, caches, branch predictors) and finds an
    /// iteration count that makes one round last about `roundSeconds`.
    private static func calibrate(
        _ competitor: Competitor, _ buffer: PaddedBuffer, _ settings: MeasurementSettings
    ) -> Int {
        blackHole(competitor.run(buffer, 3))
        var count = 1
        while true {
            let start = Stopwatch.nanoseconds()
            blackHole(competitor.run(buffer, count))
            let elapsed = Double(Stopwatch.nanoseconds() - start) / 1e9
            if elapsed >= settings.roundSeconds / 10 || count >= 1 << 30 {
                let perIteration = elapsed / Double(count)
                return max(1, Int(settings.roundSeconds / perIteration))
            }
            count *= elapsed > 0 ? min(16, max(2, Int(settings.roundSeconds / 10 / elapsed) + 1)) : 16
        }
    }
}
