/// What a reload may do about the listeners. They are bound once, at start, with the
/// addresses and limits of the configuration then (`ListenersAtStart`); a reload cannot move
/// or re-limit them, so it says so instead of leaving the new settings silently unapplied,
/// and it refuses a configuration that needs a listener which is not running (an app taking
/// HTTP requests with no public listener would receive nothing, without a word).
struct ListenersAtStart: Sendable, Equatable {
    var operationsAddress: String?
    var listeners: ListenerSettings

    init(_ configuration: DaemonConfiguration) {
        operationsAddress = configuration.operationsAddress
        listeners = configuration.listeners
    }

    /// Why `new` cannot be applied while these listeners run, or nil when it can.
    func refusal(of new: DaemonConfiguration) -> String? {
        let needsPublic = new.apps.filter { $0.enabled && $0.delivery.usesHTTP }.map(\.name)
        guard !needsPublic.isEmpty, listeners.publicAddress == nil else { return nil }
        return "app(s) \(needsPublic.joined(separator: ", ")) take HTTP requests, but sockeyed started without a public "
            + "listener: add public.listen and restart sockeyed"
    }

    /// The listener settings `new` changes, which take effect only at the next start.
    func changesIgnored(by new: DaemonConfiguration) -> [String] {
        var changed: [String] = []
        if new.operationsAddress != operationsAddress { changed.append("operations.listen") }
        if new.listeners.operations != listeners.operations { changed.append("operations limits") }
        if new.listeners.allowedHosts != listeners.allowedHosts { changed.append("operations.allowed_hosts") }
        if new.listeners.publicAddress != listeners.publicAddress { changed.append("public.listen") }
        if new.listeners.publicLimits != listeners.publicLimits { changed.append("public limits") }
        return changed
    }
}
