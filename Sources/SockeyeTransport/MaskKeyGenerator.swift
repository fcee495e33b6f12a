import CSockeyeOpenSSL

/// Mask keys for client frames, straight from the system's CSPRNG (`getrandom`).
///
/// RFC 6455 §5.3 asks for keys the server, or a script steering what the client sends,
/// cannot predict. A fast generator seeded from the CSPRNG does not give that: the output
/// of xoshiro and its kind reveals their state, so one observed frame predicts the next
/// keys. Every key here is CSPRNG output used once. To keep the cost of one system call per
/// ack frame away, the bytes are fetched in bulk: `refillSize` bytes per `getrandom` call,
/// 1 024 draws (each frame takes one 64-bit draw), so about one system call per thousand
/// frames. The unused bytes stay in process memory until drawn, which costs nothing: each
/// key goes to the server in clear in its frame anyway.
///
/// Copies share one buffer (it is a class inside), so a copy taken and written back around
/// a call never hands out the same bytes twice. Confined to one thread (the service thread).
struct MaskKeyGenerator: RandomNumberGenerator {
    /// Bytes fetched per refill.
    static let refillSize = 8192

    private let pool: Pool

    /// Keys from `getrandom`.
    init() { pool = Pool(size: Self.refillSize, fill: Self.systemFill) }

    /// Keys from `fill` in refills of `size` bytes (a multiple of 8), for tests: `fill`
    /// writes up to the buffer's size and returns how many bytes it wrote.
    init(refillSize size: Int, fill: @escaping (UnsafeMutableRawBufferPointer) -> Int) {
        precondition(size >= 8 && size % 8 == 0, "the refill size must be a positive multiple of 8")
        pool = Pool(size: size, fill: fill)
    }

    mutating func next() -> UInt64 { pool.next() }

    /// How many times the buffer was refilled (once at the first draw, then every
    /// `refillSize / 8` draws).
    var refills: Int { pool.refills }

    /// One `getrandom` call: the bytes it wrote (it may write fewer than asked for a large
    /// request when a signal interrupts it), or 0 when it failed.
    static func systemFill(_ buffer: UnsafeMutableRawBufferPointer) -> Int {
        let got = sockeye_random_fill(buffer.baseAddress, buffer.count)
        return got > 0 ? got : 0
    }

    /// The buffer and its cursor.
    final class Pool {
        private let buffer: UnsafeMutableRawBufferPointer
        private var offset: Int
        private let fill: (UnsafeMutableRawBufferPointer) -> Int
        private(set) var refills = 0

        init(size: Int, fill: @escaping (UnsafeMutableRawBufferPointer) -> Int) {
            buffer = .allocate(byteCount: size, alignment: 8)
            offset = size  // empty: the first draw refills
            self.fill = fill
        }

        deinit { buffer.deallocate() }

        func next() -> UInt64 {
            if offset + 8 > buffer.count { refill() }
            // Safe: offset + 8 <= buffer.count after a refill, and offsets are multiples of 8.
            let value = buffer.load(fromByteOffset: offset, as: UInt64.self)
            offset += 8
            return value
        }

        /// Fills the whole buffer: a short read is continued. If the CSPRNG fails outright
        /// (no `getrandom` in a sandbox), the rest comes from the standard library's
        /// system generator, which uses the same kernel source by other means.
        private func refill() {
            refills += 1
            var filled = 0
            var attempts = 0
            while filled < buffer.count && attempts < 16 {
                attempts += 1
                let got = fill(UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                if got <= 0 { break }
                filled += min(got, buffer.count - filled)
            }
            if filled < buffer.count {
                var system = SystemRandomNumberGenerator()
                for index in filled..<buffer.count { buffer[index] = system.next() }
            }
            offset = 0
        }
    }
}
