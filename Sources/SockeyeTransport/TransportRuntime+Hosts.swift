// Hooks for hosts outside this module (the C ABI) that must order their own work with the
// service thread: a barrier after which no callback of a freed client can still be
// running, and a check that refuses blocking calls from inside a callback.

extension TransportRuntime {
    /// Runs `body` on the service thread after the work queued before it. Any thread.
    /// Never runs if the runtime has already shut down: a host waiting for it must also
    /// watch for the shutdown.
    public func perform(_ body: @escaping () -> Void) { async(body) }

    /// Whether the calling thread is this runtime's service thread.
    public var isOnServiceThread: Bool { isServiceThread }
}
