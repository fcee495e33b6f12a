import SockeyeSinkKit

/// A fixed ring of `capacity` samples, one per interval of the wall clock: interval `slot`
/// covers `[slot × interval, (slot + 1) × interval)` milliseconds since 1970 and lives at
/// position `slot % capacity`, tagged with its slot. Reading the window before the interval
/// in progress takes each position whose tag is the slot wanted there: what was overwritten
/// or never written reads as a gap. Nothing grows: an hour of history is its fixed size.
struct HistoryRing: Sendable {
    /// Samples kept: 360 intervals (an hour at the default 10 s).
    static let capacity = 360

    let intervalMilliseconds: Int64
    private var slots: [Int64]
    private var samples: [AppHistory.Sample]

    init(intervalMilliseconds: Int64) {
        precondition(intervalMilliseconds > 0)
        self.intervalMilliseconds = intervalMilliseconds
        slots = Array(repeating: .min, count: Self.capacity)
        samples = Array(repeating: AppHistory.Sample(eventsPerSecond: 0, ackP99Nanoseconds: nil, liveConnections: 0, wantedConnections: 0),
                        count: Self.capacity)
    }

    /// The interval in progress at `milliseconds` since 1970.
    func slot(atMilliseconds milliseconds: Int64) -> Int64 {
        Self.floorDivide(milliseconds, intervalMilliseconds)
    }

    /// Keeps `sample` as interval `slot`'s (replacing what its position held).
    mutating func record(_ sample: AppHistory.Sample, slot: Int64) {
        let position = Int(Self.floorModulo(slot, Int64(Self.capacity)))
        slots[position] = slot
        samples[position] = sample
    }

    /// The `capacity` intervals before the one in progress at `milliseconds`, oldest first.
    func history(atMilliseconds milliseconds: Int64) -> AppHistory {
        let current = slot(atMilliseconds: milliseconds)
        var window: [AppHistory.Sample?] = []
        window.reserveCapacity(Self.capacity)
        for slot in (current - Int64(Self.capacity))..<current {
            let position = Int(Self.floorModulo(slot, Int64(Self.capacity)))
            window.append(slots[position] == slot ? samples[position] : nil)
        }
        return AppHistory(intervalMilliseconds: intervalMilliseconds, endMilliseconds: current * intervalMilliseconds, samples: window)
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let quotient = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
    }

    static func floorModulo(_ a: Int64, _ b: Int64) -> Int64 {
        a - floorDivide(a, b) * b
    }
}
