import SockeyeSinkKit
import Testing
@testable import SockeyeDaemon

/// The status page's history, without sockets or clocks: the ring of samples, the latency
/// buckets and their p99, and the sampler that turns readings into one sample per interval.
@Suite("app history: ring, latency buckets, sampler")
struct AppHistoryTests {
    static func sample(_ rate: Double, p99: Int64? = nil, live: Int = 2, wanted: Int = 2) -> AppHistory.Sample {
        AppHistory.Sample(eventsPerSecond: rate, ackP99Nanoseconds: p99, liveConnections: live, wantedConnections: wanted)
    }

    @Test("the ring wraps and keeps the last 360 intervals, oldest first, ending before the one in progress")
    func ringWraps() {
        var ring = HistoryRing(intervalMilliseconds: 10_000)
        for slot in Int64(0)..<1_000 { ring.record(Self.sample(Double(slot)), slot: slot) }
        // At 10 005 s the interval in progress is slot 1 000: the window is slots 640 … 999.
        let history = ring.history(atMilliseconds: 10_005_000)
        #expect(history.samples.count == HistoryRing.capacity)
        #expect(history.samples.map { $0?.eventsPerSecond } == (640..<1_000).map { Double($0) })
        #expect(history.endMilliseconds == 10_000_000 && history.spanMilliseconds == 3_600_000)
        #expect(history.endMilliseconds(ofSample: 359) == 10_000_000 && history.endMilliseconds(ofSample: 0) == 6_410_000)
        #expect(history.latest?.eventsPerSecond == 999)
    }

    @Test("intervals without a sample read as gaps (nil), also where an older lap's sample still sits")
    func ringGaps() {
        var ring = HistoryRing(intervalMilliseconds: 10_000)
        for slot in Int64(0)..<100 { ring.record(Self.sample(1), slot: slot) }
        for slot in Int64(130)..<200 { ring.record(Self.sample(2), slot: slot) }
        let history = ring.history(atMilliseconds: 2_000_000)
        #expect(history.samples.count == 360)
        #expect(history.samples[0..<160].allSatisfy { $0 == nil })  // before the first sample
        #expect(history.samples[160..<260].allSatisfy { $0?.eventsPerSecond == 1 })
        #expect(history.samples[260..<290].allSatisfy { $0 == nil })  // the gap: not zeros
        #expect(history.samples[290..<360].allSatisfy { $0?.eventsPerSecond == 2 })
        // Much later: positions still hold the old laps' samples, and none of them is shown.
        let later = ring.history(atMilliseconds: 10_000 * 1_000)
        #expect(later.samples.allSatisfy { $0 == nil })
        // A clock set back (negative slots) reads and writes positions as well.
        ring.record(Self.sample(3), slot: -5)
        #expect(ring.history(atMilliseconds: -40_000).samples.last??.eventsPerSecond == 3)
    }

    @Test("a latency's bucket: two per power of two from 2^15 ns, everything below in the first, from 2^34 ns in the last")
    func bucketIndex() {
        let cases: [(Int64, Int)] = [
            (-5, 0), (0, 0), (32_767, 0), (32_768, 1), (49_151, 1), (49_152, 2), (65_535, 2), (65_536, 3),
            ((1 << 34) - 1, 38), (1 << 34, 39), (.max, 39),
        ]
        for (nanoseconds, index) in cases {
            #expect(LatencyBuckets.index(nanoseconds: nanoseconds) == index, "\(nanoseconds) ns")
        }
        // Every latency is below its bucket's upper bound and at or above the bucket before's.
        var value: Int64 = 32_768
        while value < 1 << 34 {
            let index = LatencyBuckets.index(nanoseconds: value)
            #expect(LatencyBuckets.upperBound(of: index) > value && LatencyBuckets.upperBound(of: index - 1) <= value, "\(value) ns")
            #expect(Double(LatencyBuckets.upperBound(of: index)) <= Double(value) * 1.5 + 1, "\(value) ns")
            value = value * 9 / 8 + 7
        }
    }

    @Test("p99 from the bucket counts is the upper bound of the 99th percentile's bucket, nil with no ack")
    func p99() {
        let counts = AckLatencyCounts()
        #expect(LatencyBuckets.quantile(0.99, of: counts.read()) == nil)
        #expect(LatencyBuckets.quantile(0.99, of: [Int]()) == nil)
        for _ in 0..<99 { counts.record(nanoseconds: 1_000_000) }  // 1 ms: the bucket [786 432, 1 048 576)
        counts.record(nanoseconds: 2_000_000_000)  // 2 s: [1.61 s, 2.15 s)
        #expect(LatencyBuckets.quantile(0.99, of: counts.read()) == 1_048_576)  // the 99th of 100 is a 1 ms one
        counts.record(nanoseconds: 2_000_000_000)
        #expect(LatencyBuckets.quantile(0.99, of: counts.read()) == 2_147_483_648)  // 99.99 → the 100th of 101
        #expect(LatencyBuckets.quantile(0.5, of: counts.read()) == 1_048_576)
        // One slow ack alone, and one beyond the last bound (read as its lower bound, 2^34 ns).
        #expect(LatencyBuckets.quantile(0.99, of: [0, 0, 0, 1] + Array(repeating: 0, count: 36)) == 98_304)
        var overflow = Array(repeating: 0, count: LatencyBuckets.count)
        overflow[LatencyBuckets.count - 1] = 3
        #expect(LatencyBuckets.quantile(0.99, of: overflow) == 1 << 34)
    }

    static func reading(_ at: Int64, received: Int, live: Int = 2, wanted: Int = 2, latencies: [Int]? = nil) -> HistorySampler.Reading {
        HistorySampler.Reading(nowMilliseconds: at, received: received, liveConnections: live, wantedConnections: wanted,
                               latencies: latencies ?? Array(repeating: 0, count: LatencyBuckets.count))
    }

    @Test("the sampler closes each interval at the first reading past it: events/s, the interval's p99, the fewest live")
    func sampler() {
        var sampler = HistorySampler(intervalMilliseconds: 10_000)
        var latencies = Array(repeating: 0, count: LatencyBuckets.count)
        latencies[5] = 1_000  // acks from before: not this interval's
        #expect(sampler.observe(Self.reading(105_000, received: 50, latencies: latencies)) == nil)
        #expect(sampler.millisecondsToNextInterval(from: 105_000) == 5_000)
        #expect(sampler.observe(Self.reading(106_000, received: 60, live: 1, latencies: latencies)) == nil)
        latencies[3] += 99
        latencies[20] += 1
        #expect(sampler.observe(Self.reading(109_000, received: 90, live: 2, wanted: 3, latencies: latencies)) == nil)
        // The interval started at the first reading (105 s, the app's start): a partial one.
        let closed = sampler.observe(Self.reading(110_005, received: 150, live: 0, latencies: latencies))
        #expect(closed?.slot == 10)
        #expect(closed?.sample.eventsPerSecond == 100.0 * 1000 / 5_005)
        #expect(closed?.sample.ackP99Nanoseconds == LatencyBuckets.upperBound(of: 3))
        #expect(closed?.sample.liveConnections == 1 && closed?.sample.wantedConnections == 3)
        // The next interval: no acks in it (p99 nil, the sample is there), events counted from 110.005 s.
        let next = sampler.observe(Self.reading(120_010, received: 250, live: 2, latencies: latencies))
        #expect(next?.slot == 11 && next?.sample.ackP99Nanoseconds == nil)
        #expect(next?.sample.eventsPerSecond == 100.0 * 1000 / 10_005 && next?.sample.liveConnections == 0)
    }

    @Test("a restart shows as missing intervals in the history, not zeros; a clock set back starts over")
    func restartGap() {
        var ring = HistoryRing(intervalMilliseconds: 10_000)
        // The app's first instance reads every second from 1 s to 60 s, then stops (its
        // sampler with it: the interval in progress, 60–70 s, gets no sample) …
        var first = HistorySampler(intervalMilliseconds: 10_000)
        for (count, at) in stride(from: Int64(1_000), through: 60_000, by: 1_000).enumerated() {
            if let closed = first.observe(Self.reading(at, received: (count + 1) * 100)) { ring.record(closed.sample, slot: closed.slot) }
        }
        // … and its next instance starts at 95.5 s, with its own counts.
        var second = HistorySampler(intervalMilliseconds: 10_000)
        for (count, at) in stride(from: Int64(95_500), through: 130_500, by: 1_000).enumerated() {
            if let closed = second.observe(Self.reading(at, received: (count + 1) * 100)) { ring.record(closed.sample, slot: closed.slot) }
        }
        let window = Array(ring.history(atMilliseconds: 131_000).samples.suffix(13))  // slots 0 … 12
        #expect(window.map { $0 == nil } == [false, false, false, false, false, false, true, true, true, false, false, false, false])
        #expect(window.compactMap { $0?.eventsPerSecond } == Array(repeating: 100, count: 10))
        // A clock set back: no sample, the sampler starts over from the new time.
        var sampler = HistorySampler(intervalMilliseconds: 10_000)
        _ = sampler.observe(Self.reading(100_000, received: 0))
        #expect(sampler.observe(Self.reading(50_000, received: 10)) == nil)
        #expect(sampler.observe(Self.reading(60_001, received: 20))?.slot == 5)
    }
}
