import Logging
import Sockeye
import Synchronization

/// The bot's identity for the own-message filter (`ignore_own_messages`).
extension AppRunner {
    /// Asks `auth.test` who the bot is, for the own-message filter, for at most 10 s (events
    /// wait meanwhile). A failure is logged and shown on the status page; events are then not
    /// filtered (never dropped by mistake).
    func learnIdentity(_ token: String) async {
        let (settings, runtime) = (self.settings, self.runtime)
        let answer: Result<BotIdentity, WebAPIError> = await withTaskGroup(of: Result<BotIdentity, WebAPIError>?.self) { group in
            group.addTask {
                do throws(WebAPIError) {
                    return .success(try await BotIdentity.fetch(token: token, apiURL: settings.apiURL, runtime: runtime))
                } catch {
                    return .failure(error)
                }
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(10))
                return Task.isCancelled ? nil : .failure(.transport("no answer within 10 s"))
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first ?? .failure(.transport("no answer"))
        }
        do {
            let found = try answer.get()
            identity.withLock { $0 = found }
            logger.info("bot identity", metadata: ["team": .string(found.teamID ?? "-"), "user_id": .string(found.userID ?? "-"),
                                                   "bot_id": .string(found.botID ?? "-")])
        } catch {
            logger.error("auth.test failed: the app's own messages are not filtered", metadata: ["error": .string(error.description)])
            status.error("auth.test: \(error.description) (own messages not filtered)")
        }
    }
}
