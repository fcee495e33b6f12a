import NIOCore
import Synchronization

/// One server connection's state, on its event loop: the requests read and not answered yet
/// (by sequence number), answers that came out of order, and whether the connection is
/// ending. Shared by the connection's `RequestCollector` and its requests' senders.
final class ServerConnection {
    let channel: any Channel
    /// Reads are held while this many requests wait for answers (pipelining back-pressure).
    static let maxUnanswered = 64

    /// The sequence number the next request gets.
    private(set) var nextSequence = 0
    /// The oldest request not answered yet.
    private var nextToWrite = 0
    /// Answers to later requests, waiting for an earlier one.
    private var waiting: [Int: (bytes: ByteBuffer, close: Bool)] = [:]
    /// No more requests are taken (a `Connection: close` request, an error, shutdown).
    private(set) var ending = false
    /// A `read` held back by `maxUnanswered`.
    var readHeld = false
    /// The connection's head, body and idle deadlines; the server sees through `slot`
    /// whether the connection is idle (and may be closed to make room).
    var deadlines: ConnectionDeadlines {
        didSet { slot.idleSince = deadlines.idleSince }
    }
    let slot: ConnectionSlot

    init(channel: any Channel, deadlines: ConnectionDeadlines, slot: ConnectionSlot) {
        self.channel = channel
        self.deadlines = deadlines
        self.slot = slot
        slot.idleSince = deadlines.idleSince
    }

    /// Requests read and not answered.
    var unanswered: Int { nextSequence - nextToWrite }

    /// A sequence number for a new request.
    func take() -> Int {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// The answer to request `sequence`: written now when every earlier request was
    /// answered, else kept until they are. `close`: the connection ends after it.
    func complete(_ sequence: Int, _ bytes: ByteBuffer, close: Bool) {
        guard sequence >= nextToWrite, waiting[sequence] == nil, sequence < nextSequence else { return }
        waiting[sequence] = (bytes, close)
        var wrote = false
        var closing = false
        while let next = waiting.removeValue(forKey: nextToWrite) {
            channel.write(next.bytes, promise: nil)
            nextToWrite += 1
            wrote = true
            if next.close {
                closing = true
                break
            }
        }
        guard wrote else { return }
        deadlines.answered(at: .now(), unanswered: unanswered)
        if closing {
            ending = true
            waiting.removeAll()
            let channel = self.channel
            channel.writeAndFlush(ByteBuffer()).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        channel.flush()
        if ending && unanswered == 0 {
            channel.close(promise: nil)
        } else if readHeld && unanswered < Self.maxUnanswered {
            readHeld = false
            channel.read()
        }
    }

    /// Takes no more requests; closes now if none is waiting for its answer, else after the
    /// last answer.
    func end() {
        ending = true
        if unanswered == 0 { channel.close(promise: nil) }
    }

    /// Ends the connection with `bytes` (an error response) once earlier requests are answered.
    func fail(_ bytes: ByteBuffer) {
        guard !ending else { return }
        let sequence = take()
        complete(sequence, bytes, close: true)
    }
}

/// What the server, on any thread, knows of one connection: since when it is idle (accepted
/// and silent, or between keep-alive requests with nothing owed), if it is.
final class ConnectionSlot: Sendable {
    /// Uptime nanoseconds, or -1 while a request is in progress. Starts at its creation
    /// (the accept), not at zero: a connection registered a moment before its handler sets
    /// the time must not look idle since boot and be evicted first.
    private let since = Atomic<Int64>(Int64(clamping: NIODeadline.now().uptimeNanoseconds))
    var idleSince: NIODeadline? {
        get {
            let value = since.load(ordering: .relaxed)
            return value < 0 ? nil : .uptimeNanoseconds(UInt64(value))
        }
        set { since.store(newValue.map { Int64(clamping: $0.uptimeNanoseconds) } ?? -1, ordering: .relaxed) }
    }
}
