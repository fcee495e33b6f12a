import CSockeye
import Glibc
import SockeyeCore
import SockeyeTransport

/// A `sockeye_client_options` read and checked: the transport's configuration plus the
/// host's callbacks. Raw pointers inside are the host's business (its `user` pointers);
/// the library only passes them back.
struct ClientSettings: @unchecked Sendable {
    var configuration: ClientConfiguration
    var ackMode: AckMode
    var onEvent: sockeye_event_fn?
    var onEventUser: UnsafeMutableRawPointer?
    var onState: sockeye_state_fn?
    var onStateUser: UnsafeMutableRawPointer?
    var log: sockeye_log_fn?
    var logUser: UnsafeMutableRawPointer?
    var logLevel: sockeye_log_level
    var redactor: TokenRedactor

    /// The smallest `struct_size` accepted (SOCKEYE_CLIENT_OPTIONS_MIN_SIZE).
    static let minimumSize =
        MemoryLayout<sockeye_client_options>.offset(of: \.ca_file)! + MemoryLayout<UnsafePointer<CChar>?>.size

    /// Reads the first `struct_size` bytes of `pointer` (the rest take their defaults) and
    /// checks every field; the token check names the kind of token given.
    init(reading pointer: UnsafePointer<sockeye_client_options>) throws(ABIFailure) {
        let size = UnsafeRawPointer(pointer).load(as: Int.self)
        guard size >= Self.minimumSize else {
            throw ABIFailure(SOCKEYE_E_INVALID_ARGUMENT, "struct_size \(size) is below SOCKEYE_CLIENT_OPTIONS_MIN_SIZE")
        }
        var options = sockeye_client_options()
        withUnsafeMutableBytes(of: &options) { local in
            local.copyMemory(from: UnsafeRawBufferPointer(start: pointer, count: min(size, local.count)))
        }

        guard let rawToken = options.app_token else { throw ABIFailure(SOCKEYE_E_INVALID_TOKEN, "app_token is NULL") }
        guard let token = String(validatingCString: rawToken) else {
            throw ABIFailure(SOCKEYE_E_INVALID_TOKEN, "app_token is not valid UTF-8")
        }
        redactor = TokenRedactor(token: token)
        if let problem = AppTokenKind(token).socketModeProblem { throw ABIFailure(SOCKEYE_E_INVALID_TOKEN, problem) }
        configuration = ClientConfiguration(appToken: token)

        if let url = options.api_base_url {
            guard let text = String(validatingCString: url) else {
                throw ABIFailure(SOCKEYE_E_INVALID_URL, "api_base_url is not valid UTF-8")
            }
            configuration.apiBaseURL = text
        }
        switch options.pool_size {
        case 0: configuration.pool.poolSize = 2
        case 1...10: configuration.pool.poolSize = Int(options.pool_size)
        default: throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "pool_size \(options.pool_size) is not in 1...10")
        }
        switch options.ack_mode {
        case 0, Int32(SOCKEYE_ACK_AFTER_HANDLER.rawValue): ackMode = .afterHandler
        case Int32(SOCKEYE_ACK_ON_RECEIPT.rawValue): ackMode = .onReceipt
        case Int32(SOCKEYE_ACK_MANUAL.rawValue): ackMode = .manual
        default: throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "ack_mode \(options.ack_mode) is unknown")
        }
        configuration.pool.ackMode = ackMode
        configuration.pool.ackGuard =
            options.ack_guard_ms == 0 ? .milliseconds(2500)
            : options.ack_guard_ms < 0 ? nil : .milliseconds(Int(options.ack_guard_ms))
        configuration.pool.dedupWindow =
            options.dedup_window_s == 0 ? .seconds(900)
            : options.dedup_window_s < 0 ? .seconds(1) : .seconds(Int(options.dedup_window_s))
        if let proxy = options.proxy_url {
            guard let text = String(validatingCString: proxy) else {
                throw ABIFailure(SOCKEYE_E_INVALID_URL, "proxy_url is not valid UTF-8")
            }
            let url: EndpointURL
            do {
                url = try EndpointURL(text)
            } catch {
                throw ABIFailure(SOCKEYE_E_INVALID_URL, "proxy_url: \(error.description)")
            }
            guard url.scheme.isHTTP else { throw ABIFailure(SOCKEYE_E_INVALID_URL, "proxy_url: expected an http:// URL") }
            configuration.proxy = ProxySettings(httpsProxy: url, httpProxy: url, noProxy: [])
        }
        if let file = options.ca_file {
            guard let text = String(validatingCString: file) else {
                throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "ca_file is not valid UTF-8")
            }
            configuration.caFile = text
        }

        onEvent = options.on_event
        onEventUser = options.on_event_user
        // Pull mode: events wait in the pull queue, and the guard acks only those the host
        // has taken from it (a crash must not lose an event acked while queued).
        configuration.pool.ackGuardAwaitsTake = onEvent == nil
        // and the pull queue is bounded: at the bound the client stops reading. A callback
        // is the consumer itself (nothing is read while it runs): no queue to bound there.
        configuration.maxQueuedEvents = try Self.queueBound(options.max_queued_events, pullMode: onEvent == nil)
        configuration.webAPITimeout = try Self.webAPITimeout(options.web_api_timeout_ms)
        onState = options.on_state
        onStateUser = options.on_state_user
        log = options.log
        logUser = options.log_user
        switch options.log_level {
        case 0: logLevel = SOCKEYE_LOG_INFO
        case 1...4: logLevel = sockeye_log_level(rawValue: UInt32(options.log_level))
        default: throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "log_level \(options.log_level) is unknown")
        }
        if options.max_pool_size != 0 {
            guard options.max_pool_size >= Int32(configuration.pool.poolSize), options.max_pool_size <= 10 else {
                throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "max_pool_size \(options.max_pool_size) is not in pool_size...10")
            }
            configuration.pool.maxPoolSize = Int(options.max_pool_size)
        }
        if options.max_message_size != 0 {
            guard options.max_message_size > 0, options.max_message_size <= Int64(Int32.max) else {
                throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "max_message_size \(options.max_message_size) is out of range")
            }
            configuration.maxMessageSize = Int(options.max_message_size)
        }
    }
}

extension ClientSettings {
    /// `web_api_timeout_ms`: 0 is the default; others must lie in the transport's range
    /// (the one the Swift API checks against too).
    static func webAPITimeout(_ milliseconds: Int32) throws(ABIFailure) -> Duration {
        guard milliseconds != 0 else { return TransportRuntime.defaultWebAPITimeout }
        let range = TransportRuntime.webAPITimeoutRange
        let timeout = Duration.milliseconds(milliseconds)
        guard range.contains(timeout) else {
            let (low, high) = (wholeMilliseconds(range.lowerBound), wholeMilliseconds(range.upperBound))
            throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "web_api_timeout_ms \(milliseconds) is not in \(low)...\(high)")
        }
        return timeout
    }

    /// `max_queued_events`: the pull queue's bound (0: the default); a callback client has
    /// no queue, so a bound there is refused rather than silently meaning nothing.
    static func queueBound(_ value: Int32, pullMode: Bool) throws(ABIFailure) -> Int? {
        guard pullMode else {
            guard value == 0 else {
                throw ABIFailure(
                    SOCKEYE_E_INVALID_OPTION,
                    "max_queued_events \(value) is set with on_event: a callback client has no queue to bound")
            }
            return nil
        }
        guard value != 0 else { return ClientConfiguration.defaultMaxQueuedEvents }
        let range = ClientConfiguration.maxQueuedEventsRange
        guard range.contains(Int(value)) else {
            let (low, high) = (range.lowerBound, range.upperBound)
            throw ABIFailure(SOCKEYE_E_INVALID_OPTION, "max_queued_events \(value) is not in \(low)...\(high)")
        }
        return Int(value)
    }

    private static func wholeMilliseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

/// Removes an app token, and its secret part on its own, from text bound for the host's log.
struct TokenRedactor: Sendable {
    private let secrets: [String]

    init(token: String) {
        var secrets: [String] = []
        if token.utf8.count >= 8 { secrets.append(token) }
        if let last = token.split(separator: "-").last, last.utf8.count >= 6, String(last) != token {
            secrets.append(String(last))
        }
        self.secrets = secrets
    }

    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "[redacted]")
        }
        return result
    }
}
