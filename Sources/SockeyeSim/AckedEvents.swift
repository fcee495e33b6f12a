/// The events acked at least once, by event number (the 16 digits of an `Ev…` event id),
/// as a bitset: one bit per generated event, so a million events cost 125 KB. Lets a test
/// check a client's store against what the simulator saw acked (`GET /admin/acked-events`).
struct AckedEvents {
    private var words: [UInt64] = []
    /// Distinct event numbers recorded.
    private(set) var count = 0

    mutating func insert(_ number: UInt64) {
        let word = Int(number >> 6)
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: max(word + 1 - words.count, words.count))) }
        let bit: UInt64 = 1 << (number & 63)
        guard words[word] & bit == 0 else { return }
        words[word] |= bit
        count += 1
    }

    func contains(_ number: UInt64) -> Bool {
        let word = Int(number >> 6)
        return word < words.count && words[word] & (1 << (number & 63)) != 0
    }

    /// The recorded numbers in increasing order.
    var numbers: [UInt64] {
        var result: [UInt64] = []
        result.reserveCapacity(count)
        for (index, word) in words.enumerated() where word != 0 {
            var rest = word
            while rest != 0 {
                result.append(UInt64(index) << 6 | UInt64(rest.trailingZeroBitCount))
                rest &= rest - 1
            }
        }
        return result
    }

    /// `Ev` and the number in 16 digits, as the payload templates write it.
    static func eventID(_ number: UInt64) -> String {
        let digits = String(number)
        return "Ev" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
