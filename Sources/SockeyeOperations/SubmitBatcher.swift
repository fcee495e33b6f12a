import NIOCore
import NIOPosix
import SockeyeSinkKit

/// Gathers the ingress's events per event loop and hands them to their apps' batch loops
/// once per turn of the loop: every request read in one turn (on any of the loop's
/// connections) joins its app's inbox together, with one wake-up of the batch loop, instead
/// of one each. NIO runs the flush task after the turn's reads.
final class SubmitBatcher: Sendable {
    typealias Request = (record: EventRecord, onAnswer: @Sendable (HTTPReply.Answer) -> Void)

    private final class Pending {
        var byApp: [ObjectIdentifier: (app: any IngressApp, requests: [Request])] = [:]
        var scheduled = false
    }
    private let pending: NIOLoopBoundBox<Pending>
    private let eventLoop: any EventLoop

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
        pending = NIOLoopBoundBox.makeBoxSendingValue(Pending(), as: Pending.self, eventLoop: eventLoop)
    }

    /// Queues `record` for `app` (on the batcher's event loop).
    func submit(_ record: EventRecord, to app: any IngressApp, onAnswer: @escaping @Sendable (HTTPReply.Answer) -> Void) {
        let state = pending.value
        state.byApp[ObjectIdentifier(app), default: (app, [])].requests.append((record, onAnswer))
        guard !state.scheduled else { return }
        state.scheduled = true
        eventLoop.execute { self.flush() }
    }

    private func flush() {
        let state = pending.value
        let groups = state.byApp
        state.byApp.removeAll(keepingCapacity: true)
        state.scheduled = false
        for (app, requests) in groups.values { app.submit(requests) }
    }

    /// A batcher for each loop of `group`, by loop.
    static func perLoop(of group: any EventLoopGroup) -> [ObjectIdentifier: SubmitBatcher] {
        var batchers: [ObjectIdentifier: SubmitBatcher] = [:]
        for loop in group.makeIterator() { batchers[ObjectIdentifier(loop)] = SubmitBatcher(eventLoop: loop) }
        return batchers
    }
}
