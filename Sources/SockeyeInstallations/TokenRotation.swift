/// The token-rotation schedule of one app's installations, without I/O: which installations'
/// tokens to refresh now, when the next one is due, and how long to wait after a failure.
///
/// Under Slack's token rotation an access token lasts 12 hours and comes with a single-use
/// refresh token. An installation is due when one of its refreshable tokens (one with a
/// refresh token) expires within `refreshAheadSeconds`, or at once after `expired(id:)` (a
/// call answered `token_expired`). `takeDue` hands each due installation out once and marks
/// it in flight until `finish`: never two refreshes of one installation at a time. After a
/// failure the installation waits (30 s doubling to 15 min by default, jittered by the
/// caller's random number), and success resets that.
///
/// The caller re-reads the store before refreshing (another process may have rotated) and
/// asks `kindsToRefresh` which of the fresh installation's tokens still need it. No token is
/// held here: only expiries and a fingerprint of each refresh token (to notice that another
/// process rotated). Times are seconds since 1970; any expiry (`Int64.max`, negative) is
/// taken without trapping.
public struct TokenRotation: Sendable {
    /// The schedule's timings.
    public struct Policy: Sendable, Equatable {
        /// How long before its expiry a token is refreshed.
        public var refreshAheadSeconds: Double
        /// The wait after a first failure; it doubles with each further failure.
        public var firstBackoffSeconds: Double
        /// The longest wait after failures (and the wait after a failure retrying cannot
        /// help soon, such as `invalid_refresh_token`).
        public var maxBackoffSeconds: Double
        /// The wait when another node holds the installation's lock (it is refreshing).
        public var busyRetrySeconds: Double
        /// The least time between two refreshes of one installation: tokens that come back
        /// already due (a broken or hostile `expires_in`) are not refreshed in a tight loop.
        public var minimumIntervalSeconds: Double

        /// Slack's defaults: refreshed `refreshAheadSeconds` ahead, 30 s doubling to 15 min,
        /// 30 s when another node is refreshing, at most once a minute per installation. NaN
        /// and negative values count as 0.
        public init(refreshAheadSeconds: Double, firstBackoffSeconds: Double = 30, maxBackoffSeconds: Double = 900,
                    busyRetrySeconds: Double = 30, minimumIntervalSeconds: Double = 60) {
            self.refreshAheadSeconds = refreshAheadSeconds
            self.firstBackoffSeconds = firstBackoffSeconds
            self.maxBackoffSeconds = maxBackoffSeconds
            self.busyRetrySeconds = busyRetrySeconds
            self.minimumIntervalSeconds = minimumIntervalSeconds
        }
    }

    /// One of an installation's tokens.
    public enum Kind: String, Sendable, CaseIterable {
        case bot
        case user
    }

    /// How a refresh ended.
    public enum Outcome: Sendable, Equatable {
        /// New tokens are stored.
        case refreshed
        /// Another process (another node, a Bolt app) rotated first; its tokens are kept.
        case alreadyRotated
        /// Failed for `reason` (an error code, never a token). `retryable` false: retrying
        /// soon cannot help (`invalid_refresh_token`, a refused client): the longest wait.
        case failed(reason: String, retryable: Bool)
        /// Another node holds the installation's lock: try again after `busyRetrySeconds`.
        case busy
        /// Revoked or deleted meanwhile: nothing to refresh.
        case gone
    }

    /// What the schedule knows of one installation.
    struct Entry: Sendable, Equatable {
        var bot: Token?
        var user: Token?
        /// A call answered `token_expired`: refresh whatever the expiry says.
        var forced = false
        /// Failures since the last success.
        var failures = 0
        /// Not before this time (after a failure, or while another node refreshes).
        var retryAt: Double?
        /// The last failure's reason, until a success.
        var lastFailure: String?

        func token(_ kind: Kind) -> Token? { kind == .bot ? bot : user }
    }

    /// A refreshable token: its expiry and its refresh token's fingerprint.
    struct Token: Sendable, Equatable {
        var expiresAt: Int64?
        var fingerprint: Int
    }

    public var policy: Policy
    private(set) var entries: [String: Entry] = [:]
    private(set) var inFlight: Set<String> = []

    /// An empty schedule (see `update`).
    public init(policy: Policy) {
        self.policy = policy
    }

    // MARK: Input

    /// Takes the store's active installations: new ones join, changed tokens replace what was
    /// known (a success elsewhere clears the failures), and installations no longer listed
    /// (revoked meanwhile) or without a refresh token are dropped. An installation in flight
    /// stays in flight until `finish`.
    public mutating func update(_ installations: [Installation]) {
        var next: [String: Entry] = [:]
        next.reserveCapacity(installations.count)
        for installation in installations {
            guard let fresh = Self.entry(installation) else { continue }
            if var known = entries[installation.id] {
                if known.bot != fresh.bot || known.user != fresh.user {
                    // Rotated by another process (or re-installed): the new tokens count.
                    known = fresh
                }
                next[installation.id] = known
            } else {
                next[installation.id] = fresh
            }
        }
        entries = next
    }

    /// A call with installation `id`'s token answered `token_expired`: it is due at once
    /// (after any back-off in progress). Returns false when the installation is not known
    /// here or has no refresh token (the caller may re-read the store and try again).
    @discardableResult
    public mutating func expired(id: String) -> Bool {
        guard entries[id] != nil else { return false }
        entries[id]?.forced = true
        return true
    }

    // MARK: Decisions

    /// The installations due at `now`, each marked in flight (not handed out again until
    /// `finish`), sorted by id.
    public mutating func takeDue(now: Double) -> [String] {
        var due: [String] = []
        for (id, entry) in entries where !inFlight.contains(id) {
            if let at = dueAt(entry), at <= now { due.append(id) }
        }
        due.sort()
        inFlight.formUnion(due)
        return due
    }

    /// When the next installation not in flight is due (at or before `now` when one is
    /// due already); nil when none will be.
    public func nextDue() -> Double? {
        var earliest: Double?
        for (id, entry) in entries where !inFlight.contains(id) {
            guard let at = dueAt(entry) else { continue }
            if earliest.map({ at < $0 }) ?? true { earliest = at }
        }
        return earliest
    }

    /// Which of `fresh`'s tokens to refresh at `now`, `fresh` being installation `id` just
    /// read again from the store: each with a refresh token that expires within
    /// `refreshAheadSeconds`, and, after `expired(id:)`, every one whose refresh token is
    /// still the one known here (a changed one means another process rotated it). Empty:
    /// nothing to do (another process rotated).
    public func kindsToRefresh(_ fresh: Installation, now: Double) -> [Kind] {
        let known = entries[fresh.id]
        var kinds: [Kind] = []
        for kind in Kind.allCases {
            guard let token = Self.token(fresh, kind) else { continue }
            let dueByTime = token.expiresAt.map { Self.seconds($0) - ahead <= now } ?? false
            let forced = known?.forced == true && known?.token(kind)?.fingerprint == token.fingerprint
            if dueByTime || forced { kinds.append(kind) }
        }
        return kinds
    }

    /// Records how installation `id`'s refresh ended at `now`. `current`, when given, is the
    /// installation as stored now (after a success, another process's rotation, or a failure
    /// after one of its tokens was refreshed); after a success the next refresh is
    /// `minimumIntervalSeconds` away at the soonest. `jitter`
    /// in 0…1 (random in the daemon) makes a failure's wait between half and all of its
    /// doubled base. An installation dropped meanwhile is only taken out of flight.
    public mutating func finish(id: String, outcome: Outcome, now: Double, jitter: Double, current: Installation? = nil) {
        inFlight.remove(id)
        guard var entry = entries[id] else { return }
        switch outcome {
        case .refreshed, .alreadyRotated:
            if let current, current.id == id, let fresh = Self.entry(current) {
                entry = fresh
            } else {
                entry.forced = false
                entry.failures = 0
                entry.lastFailure = nil
            }
            entry.retryAt = now + Self.sane(policy.minimumIntervalSeconds)
        case .failed(let reason, let retryable):
            if let current, current.id == id, let fresh = Self.entry(current) {
                // A token refreshed before another failed: the new one counts, the failure too.
                entry.bot = fresh.bot
                entry.user = fresh.user
            }
            entry.failures = entry.failures == Int.max ? Int.max : entry.failures + 1
            entry.lastFailure = reason
            entry.retryAt = now + backoff(failures: entry.failures, retryable: retryable, jitter: jitter)
        case .busy:
            entry.retryAt = now + Self.sane(policy.busyRetrySeconds)
        case .gone:
            entries[id] = nil
            return
        }
        entries[id] = entry
    }

    /// The wait after the `failures`-th failure in a row: `firstBackoffSeconds` doubled per
    /// failure, at most `maxBackoffSeconds` (at once when not `retryable`), scaled by
    /// 0.5 + 0.5 × `jitter`.
    public func backoff(failures: Int, retryable: Bool, jitter: Double) -> Double {
        let cap = Self.sane(policy.maxBackoffSeconds)
        let doublings = min(max(failures, 1), 64) - 1
        let factor = Double(sign: .plus, exponent: doublings, significand: 1)
        let base = retryable ? min(Self.sane(policy.firstBackoffSeconds) * factor, cap) : cap
        let spread = jitter.isFinite ? min(max(jitter, 0), 1) : 1
        return base * (0.5 + 0.5 * spread)
    }

    // MARK: Reading

    /// The installations whose last refresh failed, with the reason (for the status page
    /// and the metrics).
    public var failing: [String: String] {
        var out: [String: String] = [:]
        for (id, entry) in entries { if let reason = entry.lastFailure { out[id] = reason } }
        return out
    }

    /// Failures in a row of installation `id` (0 when none or unknown).
    public func failures(of id: String) -> Int { entries[id]?.failures ?? 0 }

    /// When installation `id` may be retried after a failure; nil when it is not waiting.
    public func retryAt(of id: String) -> Double? { entries[id]?.retryAt }

    /// Whether installation `id` is being refreshed.
    public func isInFlight(_ id: String) -> Bool { inFlight.contains(id) }

    /// How many installations have a refreshable token.
    public var count: Int { entries.count }

    // MARK: Arithmetic

    private var ahead: Double { Self.sane(policy.refreshAheadSeconds) }

    /// When `entry` is due; nil when it has no expiring token and was not forced.
    private func dueAt(_ entry: Entry) -> Double? {
        var at: Double?
        if entry.forced {
            at = -Double.infinity
        } else {
            for token in [entry.bot, entry.user] {
                guard let expiresAt = token?.expiresAt else { continue }
                let due = Self.seconds(expiresAt) - ahead
                if at.map({ due < $0 }) ?? true { at = due }
            }
        }
        guard let at else { return nil }
        if let retryAt = entry.retryAt { return max(at, retryAt) }
        return at
    }

    private static func entry(_ installation: Installation) -> Entry? {
        let bot = token(installation, .bot)
        let user = token(installation, .user)
        guard bot != nil || user != nil else { return nil }
        return Entry(bot: bot, user: user)
    }

    private static func token(_ installation: Installation, _ kind: Kind) -> Token? {
        let (refresh, expiresAt) = kind == .bot ? (installation.bot?.refreshToken, installation.bot?.expiresAt)
                                                : (installation.user?.refreshToken, installation.user?.expiresAt)
        guard let refresh, !refresh.isEmpty else { return nil }
        var hasher = Hasher()
        hasher.combine(refresh)
        return Token(expiresAt: expiresAt, fingerprint: hasher.finalize())
    }

    /// An expiry as seconds (every `Int64` converts; none traps).
    private static func seconds(_ value: Int64) -> Double { Double(value) }

    /// A configured number of seconds: NaN and negatives are 0, infinity a century.
    private static func sane(_ value: Double) -> Double {
        guard !value.isNaN, value > 0 else { return 0 }
        return min(value, 100 * 365 * 86_400)
    }
}
