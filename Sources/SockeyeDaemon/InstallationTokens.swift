import Synchronization

/// The installations of the daemon's apps installed by OAuth, by app name: where a command
/// sink that opted in (`pass_bot_token`) finds the bot token of an event's installation.
/// Kept in step with the running apps by the daemon; the token is read from the store when
/// asked (never held here), and only while the installation is active.
public final class InstallationTokens: Sendable {
    private let apps = Mutex<[String: AppInstallations]>([:])

    public init() {}

    /// Replaces the apps known with those of `runners`.
    func update(_ runners: [AppRunner]) {
        var table: [String: AppInstallations] = [:]
        for runner in runners { if let installations = runner.installations { table[runner.settings.name] = installations } }
        apps.withLock { $0 = table }
    }

    /// The bot token of installation `id` of app `app`, if it is active.
    func botToken(app: String, installation id: String) -> String? {
        apps.withLock { $0[app] }?.botToken(for: id)
    }
}
