/// Mask keys for client frames: xoshiro256** seeded from the system's CSPRNG and reseeded
/// every 65 536 keys. RFC 6455 asks for keys the server (or a script steering the client)
/// cannot predict; drawing each from `getrandom` would cost a system call per ack frame.
struct MaskKeyGenerator: RandomNumberGenerator {
    private var state: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    private var drawsLeft = 0

    init() { reseed() }

    private mutating func reseed() {
        var system = SystemRandomNumberGenerator()
        repeat {
            state = (system.next(), system.next(), system.next(), system.next())
        } while state == (0, 0, 0, 0)
        drawsLeft = 65_536
    }

    mutating func next() -> UInt64 {
        if drawsLeft == 0 { reseed() }
        drawsLeft -= 1
        let result = rotate(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ value: UInt64, _ bits: UInt64) -> UInt64 { (value << bits) | (value >> (64 - bits)) }
}
