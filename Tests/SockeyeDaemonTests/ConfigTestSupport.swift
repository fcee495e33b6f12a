import SockeyeDaemon

/// The configuration `text` reads as (named `test.yaml` in errors), with `environment` for
/// its `${NAME}` references.
func parseConfig(_ text: String, environment: [String: String]) throws(ConfigError) -> DaemonConfiguration {
    try ConfigLoader.parse(text, source: "test.yaml", environment: environment)
}

/// The error `text` is refused with, or nil when it reads.
func configError(_ text: String, environment: [String: String]) -> ConfigError? {
    do {
        _ = try parseConfig(text, environment: environment)
        return nil
    } catch {
        return error
    }
}
