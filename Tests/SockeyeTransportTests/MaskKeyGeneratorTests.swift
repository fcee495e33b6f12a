import Testing

@testable import SockeyeTransport

@Suite("WebSocket mask keys")
struct MaskKeyGeneratorTests {
    @Test("keys come from the system CSPRNG in bulk: one refill per 1 024 draws")
    func refillsInBulk() {
        var generator = MaskKeyGenerator()
        #expect(generator.refills == 0)
        _ = generator.next()
        #expect(generator.refills == 1)
        for _ in 1..<1024 { _ = generator.next() }
        #expect(generator.refills == 1)
        _ = generator.next()
        #expect(generator.refills == 2)
    }

    @Test("keys are not all equal, and the 32 bits a frame uses almost never repeat in 10 000 draws")
    func keysDiffer() {
        var generator = MaskKeyGenerator()
        var seen = Set<UInt32>()
        for _ in 0..<10_000 { seen.insert(UInt32(truncatingIfNeeded: generator.next())) }
        // Birthday bound: about 0.01 collisions are expected among 10 000 random 32-bit keys.
        #expect(seen.count >= 9_990)
    }

    @Test("a short read from the source is continued until the buffer is full, then drawn in order")
    func shortReadsAreContinued() {
        let calls = Counter()
        var next: UInt8 = 0
        var generator = MaskKeyGenerator(refillSize: 64) { buffer in
            calls.add()
            // At most 10 bytes per call, counting up, so the order of the bytes shows.
            let count = min(10, buffer.count)
            for index in 0..<count {
                buffer[index] = next
                next &+= 1
            }
            return count
        }
        let first = generator.next()
        #expect(calls.count == 7)  // 64 bytes at 10 per call
        #expect(first == 0x0706_0504_0302_0100)
        for _ in 1..<8 { _ = generator.next() }
        #expect(calls.count == 7)
        _ = generator.next()
        #expect(calls.count == 14)
    }

    @Test("a copy draws from the same buffer: a copy written back never repeats a key")
    func copiesShareTheBuffer() {
        var generator = MaskKeyGenerator()
        var copy = generator
        let a = copy.next()
        let b = generator.next()
        #expect(a != b)
        #expect(generator.refills == 1)
    }

    @Test("a source that fails outright still yields keys (from the standard library's system generator)")
    func failingSourceFallsBack() {
        var generator = MaskKeyGenerator(refillSize: 64) { _ in 0 }
        var seen = Set<UInt64>()
        for _ in 0..<64 { seen.insert(generator.next()) }
        #expect(seen.count == 64)
    }
}
