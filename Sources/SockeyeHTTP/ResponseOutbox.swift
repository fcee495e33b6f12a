import NIOCore
import Synchronization

/// Answers sent from other threads to one event loop's connections, handed over in bulk:
/// the first answer of a burst schedules one task on the loop, the rest join it. A batch of
/// answers from the ingress costs one wake-up of the loop instead of one each.
final class ResponseOutbox: Sendable {
    struct Item: Sendable {
        let connection: NIOLoopBound<ServerConnection>
        let sequence: Int
        let bytes: ByteBuffer
        let close: Bool
    }

    private struct State {
        var items: [Item] = []
        var scheduled = false
    }
    private let state = Mutex(State())
    let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) { self.eventLoop = eventLoop }

    /// Queues `item` for the loop (call from another thread).
    func post(_ item: Item) {
        let schedule = state.withLock { state -> Bool in
            state.items.append(item)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { eventLoop.execute { self.drain() } }
    }

    private func drain() {
        let items = state.withLock { state -> [Item] in
            state.scheduled = false
            defer { state.items.removeAll(keepingCapacity: true) }
            return state.items
        }
        for item in items { item.connection.value.complete(item.sequence, item.bytes, close: item.close) }
    }
}
