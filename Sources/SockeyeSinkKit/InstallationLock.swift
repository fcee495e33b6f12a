/// A lease on a name, shared by the nodes that serve one app (in a cluster, a key of the
/// cluster's lease bucket): what makes one node, not several, refresh an installation's
/// tokens. Slack's refresh tokens are single use, so two nodes exchanging the same one would
/// leave one of them with `invalid_refresh_token`; the store's compare-and-swap keeps the
/// file right either way, the lock saves the wasted call.
///
/// Keys are `<app>.rotate.<installation id>`. A holder that dies loses the lease when
/// `leaseSeconds` have passed. A daemon of one node is given none (nil).
///
/// Threading: every method may be called from any task; both are bounded in time (an
/// implementation that cannot reach its peers answers false rather than wait).
public protocol InstallationLock: Sendable {
    /// Takes `key` for `leaseSeconds` unless another holder has it; true when taken.
    func acquire(_ key: String, leaseSeconds: Double) async -> Bool
    /// Gives `key` back (nothing when this holder does not hold it).
    func release(_ key: String) async
}
