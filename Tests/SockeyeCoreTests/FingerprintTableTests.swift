@testable import SockeyeCore
import Testing

@Suite("FingerprintTable")
struct FingerprintTableTests {
    @Test("random inserts, replacements and removals agree with a dictionary, through growth and backward shifts")
    func agreesWithDictionary() {
        var table = FingerprintTable(minimumCapacity: 8)
        var model: [UInt64: UInt64] = [:]
        var random = SplitMix64(seed: 20261130)
        for step in 0..<200_000 {
            // Few distinct keys, many collisions in the home slot: long probe runs to shift.
            let key = FingerprintTable.key((random.next() % 3_000) &* 0x9E37_79B9_0000_0000)
            let value = random.next()
            switch random.next() % 4 {
            case 0:
                let inserted = table.insertIfAbsent(value, for: key)
                #expect(inserted == (model[key] == nil), "step \(step)")
                if model[key] == nil { model[key] = value }
            case 1:
                table.set(value, for: key)
                model[key] = value
            case 2:
                let condition: UInt64? = random.next() % 2 == 0 ? model[key] : value
                let shouldRemove = model[key] != nil && (condition == nil || condition == model[key])
                let removed = table.remove(key, ifValueIs: condition)
                #expect(removed == shouldRemove, "step \(step)")
                if removed { model[key] = nil }
            default:
                #expect(table.value(for: key) == model[key], "step \(step)")
            }
            if step % 10_000 == 0 {
                #expect(table.count == model.count)
                for (key, value) in model { #expect(table.value(for: key) == value) }
            }
        }
        #expect(table.count == model.count)
        for (key, value) in model { #expect(table.value(for: key) == value) }
    }

    @Test("a zero digest is a usable key")
    func zeroDigest() {
        var table = FingerprintTable()
        let key = FingerprintTable.key(0)
        let inserted = table.insertIfAbsent(7, for: key)
        #expect(inserted)
        #expect(table.value(for: key) == 7)
        let removed = table.remove(key)
        #expect(removed)
        #expect(table.value(for: key) == nil && table.count == 0)
    }
}
