/// The events of a `SocketModeClient`, in arrival order, as an `AsyncSequence`.
///
/// Events travel from the service thread in batches (all the envelopes of one read), so a
/// waiting consumer is woken once per batch rather than once per event; the iterator then
/// hands them out one by one. Iterate it once: it has one consumer. The first `next()`
/// connects the client, unless `run()` already did.
public struct SocketModeEvents: AsyncSequence, Sendable {
    public typealias Element = SocketModeEvent
    let batches: AsyncThrowingStream<[SocketModeEvent?], any Error>
    let lifecycle: ClientLifecycle

    public func makeAsyncIterator() -> Iterator { Iterator(batches: BatchSource(batches, lifecycle)) }

    /// Hands out the events of each batch in turn.
    public struct Iterator: AsyncIteratorProtocol {
        var batches: BatchSource
        var current: [SocketModeEvent?] = []
        var index = 0

        public mutating func next() async throws -> SocketModeEvent? {
            while index >= current.count {
                guard let batch = try await batches.next() else { return nil }
                current = batch
                index = 0
            }
            // Take the event out of the batch, so its lifetime (and its after-handler ack)
            // ends with the application's use of it, not with the batch's.
            let event = current[index].take()
            index += 1
            event?.markTaken()
            return event
        }
    }
}

/// The batches as both sequences read them: the first `next()` connects the client (once
/// per client, whichever sequence or `run()` comes first; checked once per batch).
struct BatchSource {
    private var batches: AsyncThrowingStream<[SocketModeEvent?], any Error>.AsyncIterator
    private let lifecycle: ClientLifecycle
    private var connected = false

    init(_ batches: AsyncThrowingStream<[SocketModeEvent?], any Error>, _ lifecycle: ClientLifecycle) {
        self.batches = batches.makeAsyncIterator()
        self.lifecycle = lifecycle
    }

    mutating func next() async throws -> [SocketModeEvent?]? {
        if !connected {
            lifecycle.connect()
            connected = true
        }
        return try await batches.next()
    }
}

/// The batch being built on the service thread. Its elements are optional so the
/// iterator can take each event out of the batch without converting the array (an
/// `[T]` to `[T?]` conversion costs a dynamic cast per element).
final class BatchCollector: @unchecked Sendable {
    /// Touched only on the runtime's service thread.
    var pending: [SocketModeEvent?] = []
}

/// The events of a `SocketModeClient` in the batches they crossed threads in (the envelopes
/// of one read from the network, or of one burst), for hosts that handle a batch at once —
/// one write, one database transaction — before acknowledging its events. Iterate either
/// `client.events` or `client.eventBatches`, once: they share one stream. The first `next()`
/// connects the client, unless `run()` already did.
public struct SocketModeEventBatches: AsyncSequence, Sendable {
    public typealias Element = [SocketModeEvent]
    let batches: AsyncThrowingStream<[SocketModeEvent?], any Error>
    let lifecycle: ClientLifecycle

    public func makeAsyncIterator() -> Iterator { Iterator(batches: BatchSource(batches, lifecycle)) }

    /// Hands out each batch (never empty).
    public struct Iterator: AsyncIteratorProtocol {
        var batches: BatchSource

        public mutating func next() async throws -> [SocketModeEvent]? {
            while let batch = try await batches.next() {
                let events = batch.compactMap { $0 }
                for event in events { event.markTaken() }
                if !events.isEmpty { return events }
            }
            return nil
        }
    }
}
