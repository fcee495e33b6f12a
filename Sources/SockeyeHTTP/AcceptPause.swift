import NIOCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// On the listening channel: when accepting fails because the process (or the system) is out
/// of file descriptors or memory, stops accepting for `pause`, then tries again.
///
/// Without it the accept loop spins: the pending connection keeps the socket readable, and
/// NIO's server channel stays registered for reading after an accept that failed before any
/// succeeded in that read (its `AcceptBackoffHandler` only acts on a later `read`, which then
/// never comes), so `accept` fails again at once, tens of thousands of times a second.
/// Turning `autoRead` off unregisters the socket; turning it back on resumes.
final class AcceptPause: ChannelInboundHandler {
    typealias InboundIn = Any

    private let pause: TimeAmount
    private var paused = false

    init(pause: TimeAmount = .milliseconds(250)) { self.pause = pause }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let error = error as? IOError, [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errnoCode) else {
            return context.fireErrorCaught(error)
        }
        guard !paused else { return }
        paused = true
        let channel = context.channel
        try? channel.syncOptions?.setOption(.autoRead, value: false)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.scheduleTask(in: pause) {
            bound.value.paused = false
            try? channel.syncOptions?.setOption(.autoRead, value: true)
        }
    }
}
