import SockeyeCore

/// A client's pool states from the moment it was asked for (`SocketModeClient.states`),
/// starting with the state then current. The first `next()` connects the client, unless
/// `run()` or the events already did: waiting for `.running` is reason enough to connect.
public struct SocketModeStates: AsyncSequence, Sendable {
    public typealias Element = PoolState
    public typealias Failure = Never
    let states: AsyncStream<PoolState>
    let lifecycle: ClientLifecycle

    public func makeAsyncIterator() -> Iterator { Iterator(states: states.makeAsyncIterator(), lifecycle: lifecycle) }

    /// Hands out the states in order; nil once the client stopped.
    public struct Iterator: AsyncIteratorProtocol {
        public typealias Element = PoolState
        public typealias Failure = Never
        var states: AsyncStream<PoolState>.AsyncIterator
        let lifecycle: ClientLifecycle
        var connected = false

        public mutating func next() async -> PoolState? {
            if !connected {
                lifecycle.connect()
                connected = true
            }
            return await states.next()
        }
    }
}
